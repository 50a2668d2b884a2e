// AlpnPolicy.h - which application protocol (RFC 7301) each encrypted listener agrees to.
#pragma once

#include <openssl/ssl.h>

#include <string_view>

namespace dnsproxy::frontend::tls
{

/// The kind of listener a TLS context is for.
///
/// DOT (RFC 7858): "dot" is selected when the client offers it. A client that sends no ALPN, or a
/// list without "dot", is accepted with no protocol selected: RFC 7858 predates the "dot" ALPN
/// token and common clients (stubby/getdns, Android, unbound as a forwarder) send none or other
/// values; bytes that are not DNS framing are refused by the DNS layer anyway.
///
/// DOH (RFC 8484 5.2, RFC 7540 3.3): "h2" is preferred, then "http/1.1". No ALPN at all means
/// HTTP/1.1 (alpn() is then empty). A list offering neither is refused with the fatal
/// no_application_protocol alert (RFC 7301 3.2), so an HTTPS client confused into another
/// protocol's port or a DoT client on the DoH port fails at once (cross-protocol attacks, ALPACA).
enum class Alpn
{
	DOT,
	DOH
};

/// What the server answers to the client's ALPN list.
struct AlpnChoice
{
	enum class Verdict
	{
		SELECT, ///< `protocol` (a view into the client's list) is selected
		NONE,   ///< continue without ALPN
		REFUSE  ///< abort with no_application_protocol
	};
	Verdict verdict = Verdict::NONE;
	std::string_view protocol;
};

/// Applies the policy of `kind` to a client's list in wire format (length-prefixed names).
AlpnChoice chooseAlpn(Alpn kind, const unsigned char* offered, unsigned length);

/// Installs the policy of `kind` as `ctx`'s ALPN select callback.
void installAlpnPolicy(SSL_CTX* ctx, Alpn kind);

/// "DoT" or "DoH", for log lines.
const char* alpnKindName(Alpn kind);

} // namespace dnsproxy::frontend::tls
