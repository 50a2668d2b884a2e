// TlsStream.h - one server-side TLS connection on a non-blocking socket driven by our event loop.
#pragma once

#include "frontend/tls/OpenSslPtr.h"

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace dnsproxy::frontend::tls
{

/// The TLS layer of one accepted client connection (DoT or DoH). It reads and writes the socket
/// `fd` directly but does not own it: the connection closes the fd after destroying the stream.
/// Every call returns at once; WANT_READ / WANT_WRITE say which readiness to wait for before
/// calling the same function again. Either may come from any call: TLS 1.3 key updates make a
/// read write, and a write may need to read.
///
/// Rules for the caller (OpenSSL's, restated):
/// - After write() returned WANT_READ or WANT_WRITE, call write() again with the same bytes (the
///   buffer may have moved; partial writes are enabled, so OK may report fewer bytes than asked).
/// - After read() returned OK, call read() again, or at least check hasBufferedInput(): a record
///   already taken from the socket is not signalled by epoll again.
/// - CLOSED: the peer sent close_notify or closed the socket (with or without close_notify).
///   FAILED: a protocol error, a refused ALPN, a reset; lastError() says which. After either, only
///   shutdown() (which then does nothing) and the destructor are useful.
///
/// Each call clears this thread's OpenSSL error queue before and after it, since several
/// connections share a worker thread. Threading: one thread at a time (the connection's owner).
class TlsStream
{
public:
	enum class Io
	{
		OK,
		WANT_READ,
		WANT_WRITE,
		CLOSED,
		FAILED
	};

	/// Server side of `fd` (non-blocking, connected) with the context for this listener kind;
	/// keeps `ctx` alive for the stream's life.
	TlsStream(std::shared_ptr<SSL_CTX> ctx, int fd);
	~TlsStream();
	TlsStream(const TlsStream&) = delete;
	TlsStream& operator=(const TlsStream&) = delete;

	/// Drives the handshake; OK once it is complete (then again OK at once).
	Io handshake();
	/// OK with n > 0 application bytes; finishes the handshake first if needed.
	Io read(uint8_t* buffer, size_t capacity, size_t& n);
	/// OK with n > 0 bytes taken (may be fewer than `length`); OK with n = 0 for length 0.
	Io write(const uint8_t* data, size_t length, size_t& n);
	/// Best effort close_notify (RFC 8446 6.1), once, never blocks, nothing after a failure.
	void shutdown();

	bool handshakeDone() const
	{
		return _handshakeDone;
	}
	/// Was this an abbreviated handshake from a session ticket or session ID?
	bool resumed() const;
	/// The selected ALPN protocol ("dot", "h2", "http/1.1"), empty when none was.
	std::string alpn() const;
	/// "TLSv1.2" or "TLSv1.3".
	std::string version() const;
	/// The TLS 1.2/1.3 cipher suite name, for logs.
	std::string cipher() const;
	/// The SNI host name the client sent, empty when none.
	std::string serverName() const;
	/// Decrypted application bytes wait inside OpenSSL (SSL_pending): read() again without waiting
	/// for epoll, which cannot see them. False for half a record (that rest comes from the socket).
	bool hasBufferedInput() const;
	/// Why the stream failed or closed, for a log line; empty while healthy.
	const std::string& lastError() const
	{
		return _lastError;
	}

private:
	/// Maps an OpenSSL failure result to Io, remembering a fatal one.
	Io result(int ret, const char* operation);
	Io classify(int ret, const char* operation);

	std::shared_ptr<SSL_CTX> _ctx; // declared before _ssl: destroyed after it
	SslPtr _ssl;
	bool _handshakeDone = false;
	bool _dead = false;          ///< fatal error or peer gone: no shutdown, no more I/O
	Io _deadResult = Io::FAILED; ///< what every later call returns once _dead
	bool _shutdownSent = false;
	std::string _lastError;
};

} // namespace dnsproxy::frontend::tls
