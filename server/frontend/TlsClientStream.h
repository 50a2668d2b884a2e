// TlsClientStream.h - a ClientStream over a server-side TLS connection (DoT and DoH listeners).
#pragma once

#include "frontend/ClientStream.h"
#include "frontend/tls/TlsStream.h"

#include <memory>

namespace dnsproxy::frontend
{

/// Adapts tls::TlsStream (OpenSSL, non-blocking, on the accepted fd) to the connection's stream.
class TlsClientStream: public ClientStream
{
public:
	TlsClientStream(std::shared_ptr<SSL_CTX> context, int fd):
		_tls(std::move(context), fd)
	{
	}

	Io handshake() override
	{
		return convert(_tls.handshake());
	}
	Io read(uint8_t* buffer, size_t capacity, size_t& n) override
	{
		return convert(_tls.read(buffer, capacity, n));
	}
	Io write(const uint8_t* data, size_t length, size_t& n) override
	{
		return convert(_tls.write(data, length, n));
	}
	bool hasBufferedInput() const override
	{
		return _tls.hasBufferedInput();
	}
	bool encrypted() const override
	{
		return true;
	}
	bool resumed() const override
	{
		return _tls.resumed();
	}
	std::string alpn() const override
	{
		return _tls.alpn();
	}
	void shutdown() override
	{
		_tls.shutdown();
	}

private:
	static Io convert(tls::TlsStream::Io io)
	{
		switch (io)
		{
		case tls::TlsStream::Io::OK:
			return Io::OK;
		case tls::TlsStream::Io::WANT_READ:
			return Io::WANT_READ;
		case tls::TlsStream::Io::WANT_WRITE:
			return Io::WANT_WRITE;
		case tls::TlsStream::Io::CLOSED:
			return Io::CLOSED;
		default:
			return Io::FAILED;
		}
	}

	tls::TlsStream _tls;
};

} // namespace dnsproxy::frontend
