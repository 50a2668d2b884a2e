// TlsContextFactory.h - builds the client-side Poco::Net::Context for DoT connections.
#pragma once

#include "upstream/UpstreamSettings.h"

#include <Poco/Net/Context.h>

namespace dnsproxy::upstream
{

/// Makes one client Context shared by every upstream connection: chain verification against the
/// configured CA file, TLS 1.2 (or 1.3) minimum, no compression, no renegotiation, and a client
/// session cache so reconnects can resume (RFC 7858 section 3.4 recommends resumption).
/// The certificate check itself (chain result, auth-name, SPKI pins) is TlsVerifier's callback;
/// the auth-name is also sent as SNI.
class TlsContextFactory
{
public:
	static Poco::Net::Context::Ptr createClientContext(const TlsSettings& settings);
};

} // namespace dnsproxy::upstream
