// DohClientConnection.h - one DNS-over-HTTPS client connection (RFC 8484): HTTP/2 or HTTP/1.1 over TLS.
#pragma once

#include "frontend/TcpClientConnection.h"
#include "frontend/doh/DohSession.h"

#include <memory>

namespace dnsproxy::frontend
{

/// A TcpClientConnection whose bytes are HTTP instead of length-prefixed DNS: after the TLS
/// handshake the ALPN protocol picks the session (h2 -> doh::DohSession::http2, anything else
/// HTTP/1.1). Each valid request's DNS message goes through the same QueryHandler as every other
/// transport (ACL, cache, limits); the answer, known at once or later, becomes the HTTP response
/// of that request (its id is the query's tag). The limits of TcpLimits hold as for TCP: reading
/// pauses while the answers buffered, the queries in flight or the session's own request limit
/// (h2 streams, HTTP/1.1 pipelined requests) are at their limits.
///
/// Threading: like TcpClientConnection, its loop's thread only.
class DohClientConnection: public TcpClientConnection, private doh::DohHandler
{
public:
	DohClientConnection(EventLoop& loop, Poco::Net::StreamSocket socket, const Poco::Net::SocketAddress& peer,
						std::unique_ptr<ClientStream> stream, QueryHandler& handler, stats::FrontendStats& stats,
						const TcpLimits& limits, OutputBudget& budget, CloseCallback onClose,
						const doh::DohSettings& settings);
	~DohClientConnection() override;

	void deliver(uint64_t tag, std::vector<uint8_t>&& answer) override;
	void answerDropped(uint64_t tag) override;

protected:
	void takeInput(const uint8_t* data, size_t length) override;
	bool mayRead() const override;
	bool inputWaiting() const override;
	void resumeInput() override;
	void onEstablished() override;
	void droppedAtOnce(uint64_t tag) override;
	bool closeWhenWritten() const override;
	/// One read (TLS record) at a time: dnsperf 2.10's DoH client, like the one of dnsdist's test
	/// tools, loses HTTP/2 responses that arrive together in one record (measured: 2 of 3 queries
	/// lost with two streams in flight), so answers leave per read, as unbound's do.
	bool batchReads() const override
	{
		return false;
	}

private:
	void onQuery(doh::RequestId id, std::vector<uint8_t>&& query) override;
	/// Moves what the session has to send into the output buffer.
	void pump();

	doh::DohSettings _settings;
	std::unique_ptr<doh::DohSession> _session;
	bool _failed = false;     ///< the session met a fatal protocol error: close once written
	bool _inputHeld = false;  ///< the session stopped taking requests with input left (HTTP/1.1)
};

} // namespace dnsproxy::frontend
