// TlsConnector.h - the TLS policy of an upstream connection: profiles, fallback, downgrade, pins, resumption.
#pragma once

#include "stats/Stats.h"
#include "upstream/PinSource.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/Session.h>
#include <Poco/Net/StreamSocket.h>

#include <functional>
#include <string>

namespace dnsproxy::upstream
{

/// What the newest connection speaks, as UpstreamStats::transport reports it.
enum Transport : int
{
	TRANSPORT_AUTHENTICATED_TLS = 0,
	TRANSPORT_UNAUTHENTICATED_TLS = 1,
	TRANSPORT_CLEAR_TEXT = 2
};

/// Opens the stream of one DotConnection as the TLS settings allow (RFC 8310):
/// - strict profile: TLS whose chain and name TlsVerifier authenticates, and which the pins accept;
/// - opportunistic profile: unauthenticated TLS is used (counted, warned once), and when TLS fails
///   clear text to port 53, except for a server that has been seen speaking TLS (a downgrade,
///   refused) and after a pin refusal;
/// - resumption: the session of the last connection is offered; a resumed handshake shows no
///   certificate and counts as authenticated only when the session came from an authenticated one.
/// The certificate checks themselves are TlsVerifier's.
///
/// Threading: the owning connection's I/O thread only.
class TlsConnector
{
public:
	/// Called with the connected socket (blocking, as connected) and whether it is TLS; an
	/// exception from it counts as a failed connect.
	using Opened = std::function<void(Poco::Net::StreamSocket socket, bool secure)>;

	struct Failure
	{
		std::string error;         ///< why, for the log
		bool refusedByPin = false; ///< the certificate was refused by a pin check
	};

	/// `pins` may be null; it and `logger` must outlive the connector.
	TlsConnector(const ServerEndpoint& server, Poco::Net::Context::Ptr context, const ConnectionSettings& settings,
				 stats::UpstreamStats& stats, PinSource* pins, Poco::Logger& logger);

	/// True when a stream was opened and handed to `opened`; false with `failure` filled.
	bool connect(const Opened& opened, Failure& failure);

	/// An answer arrived on `socket`, the stream last opened: keeps its TLS session for resumption
	/// (once per connection).
	void answered(const Poco::Net::StreamSocket& socket);

private:
	bool connectTls(const Opened& opened, std::string& error, bool& refusedByPin);
	bool connectClearText(const Opened& opened, std::string& error);
	std::string pinName() const;

	ServerEndpoint _server;
	Poco::Net::Context::Ptr _context;
	ConnectionSettings _settings;
	stats::UpstreamStats& _stats;
	PinSource* _pins;
	Poco::Logger& _logger;
	Poco::Net::Session::Ptr _tlsSession; ///< the session to resume
	bool _sessionAuthenticated = false;  ///< the session we may resume came from an authenticated handshake
	bool _warnedUnauthenticated = false;
	bool _secure = false;       ///< the stream last opened is TLS
	bool _sessionTaken = false; ///< its session has been kept
};

} // namespace dnsproxy::upstream
