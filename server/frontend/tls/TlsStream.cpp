// TlsStream.cpp - non-blocking server-side TLS on a borrowed socket, OpenSSL results as Io values.
#include "frontend/tls/TlsStream.h"

#include <openssl/err.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dnsproxy::frontend::tls
{

TlsStream::TlsStream(std::shared_ptr<SSL_CTX> ctx, int fd):
	_ctx(std::move(ctx))
{
	ERR_clear_error();
	_ssl.reset(_ctx ? SSL_new(_ctx.get()) : nullptr);
	// SSL_set_fd makes a socket BIO with BIO_NOCLOSE: the fd stays the connection's.
	if (!_ssl || SSL_set_fd(_ssl.get(), fd) != 1)
	{
		ERR_clear_error();
		throw std::runtime_error("cannot create a TLS connection");
	}
	SSL_set_accept_state(_ssl.get());
}

TlsStream::~TlsStream()
{
	_ssl.reset();
	ERR_clear_error(); // SSL_free may leave entries; the next connection on this thread must not see them
}

TlsStream::Io TlsStream::handshake()
{
	if (_handshakeDone)
		return Io::OK;
	if (_dead)
		return _deadResult;
	ERR_clear_error();
	const int ret = SSL_do_handshake(_ssl.get());
	if (ret == 1)
	{
		_handshakeDone = true;
		return Io::OK;
	}
	return result(ret, "handshake");
}

TlsStream::Io TlsStream::read(uint8_t* buffer, size_t capacity, size_t& n)
{
	n = 0;
	if (_dead)
		return _deadResult;
	if (capacity == 0)
		return Io::OK;
	ERR_clear_error();
	if (SSL_read_ex(_ssl.get(), buffer, capacity, &n) == 1)
	{
		_handshakeDone = true; // SSL_read completes a handshake that was not finished
		return Io::OK;
	}
	n = 0;
	return result(0, "read");
}

TlsStream::Io TlsStream::write(const uint8_t* data, size_t length, size_t& n)
{
	n = 0;
	if (_dead)
		return _deadResult;
	if (length == 0)
		return Io::OK;
	ERR_clear_error();
	if (SSL_write_ex(_ssl.get(), data, length, &n) == 1)
	{
		_handshakeDone = true;
		return Io::OK;
	}
	n = 0;
	return result(0, "write");
}

void TlsStream::shutdown()
{
	// RFC 8446 6.1 / SSL_shutdown(3): no close_notify after a fatal error or before the
	// handshake is done; one attempt, whatever it returns (the socket is closed next anyway).
	if (_dead || _shutdownSent || !SSL_is_init_finished(_ssl.get()))
		return;
	_shutdownSent = true;
	ERR_clear_error();
	SSL_shutdown(_ssl.get());
	ERR_clear_error();
}

TlsStream::Io TlsStream::result(int ret, const char* operation)
{
	const Io io = classify(ret, operation);
	if (_dead)
		_deadResult = io;
	return io;
}

TlsStream::Io TlsStream::classify(int ret, const char* operation)
{
	const int savedErrno = errno;
	const int error = SSL_get_error(_ssl.get(), ret);
	const unsigned long queued = ERR_peek_last_error();
	ERR_clear_error();
	switch (error)
	{
	case SSL_ERROR_WANT_READ:
		return Io::WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return Io::WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		// close_notify received: our own close_notify may still be sent by shutdown().
		_lastError = std::string(operation) + ": peer sent close_notify";
		return Io::CLOSED;
	case SSL_ERROR_SYSCALL:
		_dead = true;
		if (queued == 0 && (savedErrno == 0 || savedErrno == ECONNRESET || savedErrno == EPIPE))
		{
			_lastError = std::string(operation) + ": peer closed the connection" +
						 (savedErrno ? std::string(" (") + std::strerror(savedErrno) + ")" : std::string());
			return Io::CLOSED;
		}
		_lastError = std::string(operation) + ": " + std::strerror(savedErrno);
		return Io::FAILED;
	case SSL_ERROR_SSL:
		_dead = true;
		if (ERR_GET_LIB(queued) == ERR_LIB_SSL && ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		{
			// OpenSSL 3 reports EOF without close_notify this way.
			_lastError = std::string(operation) + ": peer closed the connection without close_notify";
			return Io::CLOSED;
		}
		{
			const char* reason = ERR_reason_error_string(queued);
			_lastError = std::string(operation) + ": " + (reason ? reason : "TLS protocol error");
		}
		return Io::FAILED;
	default:
		_dead = true;
		_lastError = std::string(operation) + ": unexpected OpenSSL result " + std::to_string(error);
		return Io::FAILED;
	}
}

bool TlsStream::resumed() const
{
	return SSL_session_reused(_ssl.get()) == 1;
}

std::string TlsStream::alpn() const
{
	const unsigned char* data = nullptr;
	unsigned length = 0;
	SSL_get0_alpn_selected(_ssl.get(), &data, &length);
	return data ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
}

std::string TlsStream::version() const
{
	return SSL_get_version(_ssl.get());
}

std::string TlsStream::cipher() const
{
	const char* name = SSL_get_cipher_name(_ssl.get());
	return name ? name : "";
}

std::string TlsStream::serverName() const
{
	const char* name = SSL_get_servername(_ssl.get(), TLSEXT_NAMETYPE_host_name);
	return name ? name : "";
}

bool TlsStream::hasBufferedInput() const
{
	// With read-ahead (TlsServerContext) OpenSSL takes whole records, or parts of them, off the
	// socket ahead of need: decrypted bytes (SSL_pending) and raw ones (SSL_has_pending) alike are
	// invisible to epoll. True for half a record too: the caller reads once more when it resumes
	// reading (WANT_READ then), it must not loop "while buffered".
	return SSL_pending(_ssl.get()) > 0 || SSL_has_pending(_ssl.get()) == 1;
}

} // namespace dnsproxy::frontend::tls
