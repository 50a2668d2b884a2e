// TlsConnector.cpp - the TLS policy of an upstream connection: profiles, fallback, downgrade, pins, resumption.
#include "upstream/TlsConnector.h"

#include "upstream/TlsVerifier.h"

#include <Poco/Exception.h>
#include <Poco/Net/SecureStreamSocket.h>

namespace dnsproxy::upstream
{

namespace
{
/// The opportunistic profile's clear-text fallback goes to the classic DNS port.
constexpr uint16_t CLEAR_TEXT_DNS_PORT = 53;
} // namespace

TlsConnector::TlsConnector(const ServerEndpoint& server, Poco::Net::Context::Ptr context,
						   const ConnectionSettings& settings, stats::UpstreamStats& stats, PinSource* pins,
						   Poco::Logger& logger):
	_server(server),
	_context(std::move(context)),
	_settings(settings),
	_stats(stats),
	_pins(pins),
	_logger(logger)
{
}

std::string TlsConnector::pinName() const
{
	return _server.authName.empty() ? _server.address.host().toString() : _server.authName;
}

bool TlsConnector::connect(const Opened& opened, Failure& failure)
{
	if (connectTls(opened, failure.error, failure.refusedByPin))
		return true;
	// A pin refusal is an attack or a misconfiguration, never a reason to drop to clear text.
	return _settings.opportunistic && !failure.refusedByPin && connectClearText(opened, failure.error);
}

void TlsConnector::answered(const Poco::Net::StreamSocket& socket)
{
	if (_sessionTaken || !_settings.sessionResumption || !_secure)
		return;
	// TLS 1.3 tickets arrive after the handshake, with the first read: take the session only now
	// (poco issue 3880), so that the next connection can resume it.
	_sessionTaken = true;
	try
	{
		_tlsSession = Poco::Net::SecureStreamSocket(socket).currentSession();
	}
	catch (const Poco::Exception&)
	{
		_tlsSession = nullptr;
	}
}

bool TlsConnector::connectTls(const Opened& opened, std::string& error, bool& refusedByPin)
{
	HandshakeCheck check;
	check.authName = pinName();
	check.requireAuth = !_settings.opportunistic;
	check.pins = _pins;
	try
	{
		Poco::Net::SecureStreamSocket socket(_context);
		socket.setPeerHostName(check.authName); // also the SNI
		if (_tlsSession && _settings.sessionResumption)
			socket.useSession(_tlsSession);
		{
			TlsVerifier::Scope scope(check);
			socket.connect(_server.address,
						   Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(_settings.timeoutMs) * 1000));
		}
		bool resumed = _tlsSession && socket.sessionWasReused();
		// A resumed handshake shows no certificate: it is as authenticated as the one that made the session.
		bool authenticated = check.sawCertificate ? check.chain.authenticated() : (resumed && _sessionAuthenticated);
		if (!authenticated)
		{
			stats::bump(_stats.unauthenticatedTls);
			if (!_warnedUnauthenticated)
			{
				_logger.warning("upstream %s: using unauthenticated TLS (opportunistic profile): %s", _server.url(),
								check.failure.empty() ? std::string("session not verified") : check.failure);
				_warnedUnauthenticated = true;
			}
		}
		_sessionAuthenticated = authenticated;
		_stats.transport.store(authenticated ? TRANSPORT_AUTHENTICATED_TLS : TRANSPORT_UNAUTHENTICATED_TLS,
							   std::memory_order_relaxed);
		if (resumed)
			stats::bump(_stats.tlsResumptions);
		if (_pins)
		{
			_pins->spokeTls(check.authName);
			if (authenticated && check.sawCertificate)
				_pins->verified(check.authName, check.chain);
		}
		_secure = true;
		_sessionTaken = false;
		opened(socket, true);
		if (_logger.debug())
			_logger.debug("connected to %s%s", _server.url(), std::string(resumed ? " (TLS session resumed)" : ""));
		return true;
	}
	catch (const Poco::Exception& e)
	{
		refusedByPin = check.refusedByPin;
		error = check.failure.empty() ? e.displayText() : check.failure;
		if (check.refusedByPin)
			stats::bump(_stats.pinRefusals);
		return false;
	}
}

bool TlsConnector::connectClearText(const Opened& opened, std::string& error)
{
	// RFC 8310 5: the opportunistic profile may fall back to clear text, but a server that has been
	// seen speaking TLS must not: that is exactly what a downgrade attack would look like.
	if (_pins && _pins->hasSpokenTls(pinName()))
	{
		stats::bump(_stats.downgradesRefused);
		error += "; no clear-text fallback: this server has spoken TLS before (downgrade refused)";
		return false;
	}
	try
	{
		Poco::Net::SocketAddress plain(_server.address.host(), CLEAR_TEXT_DNS_PORT);
		Poco::Net::StreamSocket socket;
		socket.connect(plain, Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(_settings.timeoutMs) * 1000));
		stats::bump(_stats.clearTextFallbacks);
		_logger.warning("upstream %s: TLS failed (%s); opportunistic profile: using clear-text DNS to %s",
						_server.url(), error, plain.toString());
		_stats.transport.store(TRANSPORT_CLEAR_TEXT, std::memory_order_relaxed);
		_secure = false;
		opened(socket, false);
		return true;
	}
	catch (const Poco::Exception& e)
	{
		error += "; clear-text fallback failed: " + e.displayText();
		return false;
	}
}

} // namespace dnsproxy::upstream
