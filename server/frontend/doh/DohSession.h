// DohSession.h - the HTTP side of one DNS-over-HTTPS client connection (RFC 8484), HTTP/2 or HTTP/1.1, without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dnsproxy::frontend::doh
{

/// Limits of one DoH connection; defaults match SPEC 3 ([server] doh_path).
struct DohSettings
{
	std::string path = "/dns-query"; // [server] doh_path
	/// HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS, and the most queries handed to onQuery and not
	/// answered yet (streams the client reset included); more are refused with REFUSED_STREAM.
	/// HTTP/1.1: the most requests parsed whose responses have not been taken yet (parsing pauses).
	uint32_t maxStreams = 100;
	size_t maxRequestBytes = 65535; // DNS message in a POST body / decoded ?dns=: larger gives 413
	size_t maxHeaderBytes = 16384;  // larger header block gives 431
};

/// Unique within one session. HTTP/2: the stream id; HTTP/1.1: a counter.
using RequestId = uint64_t;

/// Receives the valid DoH requests of one session.
class DohHandler
{
public:
	virtual ~DohHandler() = default;
	/// A valid DoH request: the DNS query bytes (wire format, untouched: the ID may be 0,
	/// RFC 8484 4.1). Called from inside feed() or takeOutput(). The session expects exactly one
	/// answer() or fail() per id later (possibly from inside onQuery, possibly after other feeds).
	virtual void onQuery(RequestId id, std::vector<uint8_t>&& query) = 0;
};

/// One client connection's HTTP state machine after TLS. The owner feeds it the decrypted bytes
/// it reads and writes what takeOutput() gives; the session never touches a socket or a clock
/// (idle timeouts are the owner's).
///
/// Request rules (RFC 8484 4.1, RFC 9110): the path (query string aside) must equal
/// settings.path, else 404; methods other than GET and POST get 405 with Allow; a POST needs
/// Content-Type application/dns-message (parameters ignored), else 415; a GET needs ?dns= in
/// base64url (RFC 4648 5; '=' padding tolerated), else 400; a message over maxRequestBytes gives
/// 413 (the encoded ?dns= length is checked before decoding) and one under 12 octets 400.
/// The Accept header is not checked. A 200 carries Content-Type application/dns-message,
/// Content-Length and Cache-Control max-age (cacheMaxAge in DohRequest.h, RFC 8484 5.1).
///
/// Memory: at most maxStreams requests (each at most maxHeaderBytes + maxRequestBytes) and their
/// responses are held; output is produced only for requests.
///
/// Threading: not thread-safe; one thread (the connection's event loop) calls everything,
/// handler callbacks included.
class DohSession
{
public:
	virtual ~DohSession() = default;

	/// HTTP/2 (ALPN "h2") through an nghttp2 server session; the server SETTINGS are queued at once.
	static std::unique_ptr<DohSession> http2(const DohSettings& settings, DohHandler& handler);
	/// HTTP/1.1 (ALPN "http/1.1" or none), keep-alive and pipelining; see Http1Session.h.
	static std::unique_ptr<DohSession> http1(const DohSettings& settings, DohHandler& handler);

	/// Bytes read from the client. false = fatal protocol error: write takeOutput() (a GOAWAY or a
	/// 400) then close.
	virtual bool feed(const uint8_t* data, size_t length) = 0;
	/// 200 with the DNS answer (bytes copied). Unknown or already finished ids are ignored.
	virtual void answer(RequestId id, const uint8_t* dns, size_t length) = 0;
	/// No DNS answer will come (the proxy dropped the query): answers `status` (e.g. 502, 503,
	/// 504) without a body. Ids of streams the client already reset are ignored silently.
	virtual void fail(RequestId id, int status) = 0;
	/// Appends the bytes to send to `out` (HTTP/1.1: responses in request order). May parse
	/// requests that were waiting (HTTP/1.1 after a pause), so it may call onQuery.
	virtual void takeOutput(std::vector<uint8_t>& out) = 0;
	/// Stop taking new requests, finish the ones in flight, then wantsClose() (SIGTERM, reload).
	/// HTTP/2: GOAWAY NO_ERROR naming the last stream seen.
	virtual void closeGracefully() = 0;
	/// Connection: close answered, GOAWAY sent and streams done, or a fatal error: once the
	/// output taken so far is written, close.
	virtual bool wantsClose() const = 0;
	/// Requests handed to onQuery and not answered/failed yet.
	virtual size_t openRequests() const = 0;
	/// false while HTTP/1.1 holds maxStreams requests (the owner stops reading until takeOutput()
	/// makes room); HTTP/2 always true until it wants to close.
	virtual bool mayFeed() const = 0;
	/// Responses with a 4xx or 5xx status queued since the last call (for the statistics).
	size_t takeErrorCount()
	{
		const size_t n = _errors;
		_errors = 0;
		return n;
	}

protected:
	/// Sessions count every error response they queue here.
	void countStatus(int status)
	{
		if (status >= 400)
			++_errors;
	}

private:
	size_t _errors = 0;
};

} // namespace dnsproxy::frontend::doh
