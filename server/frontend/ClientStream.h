// ClientStream.h - the byte stream under a client connection: plain TCP, or TLS (DoT, DoH).
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>

namespace dnsproxy::frontend
{

/// Non-blocking reads and writes on one accepted socket, which the stream does not own.
///
/// The connection above it drives it from its event loop: a call that cannot go on says which
/// readiness it waits for (WANT_READ / WANT_WRITE). Over TLS a read may need the socket to be
/// writable and a write readable; the connection watches for what was asked. Threading: the
/// connection's loop thread only.
class ClientStream
{
public:
	enum class Io
	{
		OK,
		WANT_READ,
		WANT_WRITE,
		CLOSED, ///< the peer closed (EOF, TLS close_notify)
		FAILED  ///< reset, protocol error
	};

	virtual ~ClientStream() = default;

	/// OK once the stream carries data (at once for plain TCP).
	virtual Io handshake()
	{
		return Io::OK;
	}
	/// OK with n > 0 bytes read.
	virtual Io read(uint8_t* buffer, size_t capacity, size_t& n) = 0;
	/// OK with n > 0 bytes written (possibly fewer than length).
	virtual Io write(const uint8_t* data, size_t length, size_t& n) = 0;
	/// Bytes already taken off the socket and not read yet (TLS records): epoll will not report them.
	virtual bool hasBufferedInput() const
	{
		return false;
	}
	virtual bool encrypted() const
	{
		return false;
	}
	/// After the handshake: whether a TLS session was resumed, and the ALPN protocol chosen.
	virtual bool resumed() const
	{
		return false;
	}
	virtual std::string alpn() const
	{
		return std::string();
	}
	/// Best effort, never blocks: a TLS close_notify before the socket closes.
	virtual void shutdown()
	{
	}
};

/// Plain TCP: recv()/send() on the socket.
class PlainStream: public ClientStream
{
public:
	explicit PlainStream(int fd):
		_fd(fd)
	{
	}

	Io read(uint8_t* buffer, size_t capacity, size_t& n) override
	{
		for (;;)
		{
			const ssize_t r = ::recv(_fd, buffer, capacity, MSG_DONTWAIT);
			if (r > 0)
			{
				n = static_cast<size_t>(r);
				return Io::OK;
			}
			if (r == 0)
				return Io::CLOSED;
			if (errno != EINTR)
				return errno == EAGAIN || errno == EWOULDBLOCK ? Io::WANT_READ : Io::FAILED;
		}
	}

	Io write(const uint8_t* data, size_t length, size_t& n) override
	{
		for (;;)
		{
			const ssize_t r = ::send(_fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r >= 0)
			{
				n = static_cast<size_t>(r);
				return Io::OK;
			}
			if (errno != EINTR)
				return errno == EAGAIN || errno == EWOULDBLOCK ? Io::WANT_WRITE : Io::FAILED;
		}
	}

private:
	int _fd;
};

} // namespace dnsproxy::frontend
