// TlsTestClient.cpp - socketpair plumbing and a non-blocking OpenSSL client for TLS server tests.
#include "support/TlsTestClient.h"

#include "common/SpkiPin.h"
#include "frontend/tls/CertificatePair.h"

#include <openssl/err.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>

namespace dnsproxy::test
{

using dnsproxy::frontend::tls::TlsStream;

namespace
{

/// Enough rounds for any handshake or transfer in these tests; a stuck exchange fails instead of hanging.
constexpr int MAX_ROUNDS = 100000;

} // namespace

SocketPair::SocketPair()
{
	std::signal(SIGPIPE, SIG_IGN);
	if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, _fds) != 0)
		throw std::runtime_error("socketpair failed");
}

SocketPair::~SocketPair()
{
	for (int fd : _fds)
		if (fd >= 0)
			::close(fd);
}

void SocketPair::closeClient()
{
	if (_fds[1] >= 0)
		::close(_fds[1]);
	_fds[1] = -1;
}

TlsTestClient::TlsTestClient(int fd, const TlsClientOptions& options):
	_ctx(SSL_CTX_new(TLS_client_method()))
{
	SSL_CTX_set_verify(_ctx.get(), SSL_VERIFY_NONE, nullptr);
	if (options.maxVersion)
		SSL_CTX_set_max_proto_version(_ctx.get(), options.maxVersion);
	if (!options.alpn.empty())
	{
		std::string wire;
		for (const std::string& name : options.alpn)
			wire += static_cast<char>(name.size()) + name;
		// Returns 0 on success, unlike most of OpenSSL.
		if (SSL_CTX_set_alpn_protos(_ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
									static_cast<unsigned>(wire.size())) != 0)
			throw std::runtime_error("SSL_CTX_set_alpn_protos failed");
	}
	_ssl.reset(SSL_new(_ctx.get()));
	SSL_set_fd(_ssl.get(), fd);
	SSL_set_connect_state(_ssl.get());
	SSL_set_tlsext_host_name(_ssl.get(), "dot.example");
	if (options.session)
		SSL_set_session(_ssl.get(), options.session);
}

TlsTestClient::~TlsTestClient()
{
	// SSL_free of a connection that sent no close_notify marks its session not resumable
	// (ssl_clear_bad_session); the tests keep sessions past the client's life, so end cleanly.
	SSL_set_shutdown(_ssl.get(), SSL_SENT_SHUTDOWN);
}

int TlsTestClient::step()
{
	ERR_clear_error();
	const int ret = SSL_do_handshake(_ssl.get());
	if (ret == 1)
		return 1;
	const int error = SSL_get_error(_ssl.get(), ret);
	ERR_clear_error();
	return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

bool TlsTestClient::resumed() const
{
	return SSL_session_reused(_ssl.get()) == 1;
}

std::string TlsTestClient::alpn() const
{
	const unsigned char* data = nullptr;
	unsigned length = 0;
	SSL_get0_alpn_selected(_ssl.get(), &data, &length);
	return data ? std::string(reinterpret_cast<const char*>(data), length) : std::string();
}

std::string TlsTestClient::peerPin() const
{
	const dnsproxy::frontend::tls::X509Ptr cert(SSL_get1_peer_certificate(_ssl.get()));
	return cert ? dnsproxy::common::spkiPin(cert.get()) : std::string();
}

bool TlsTestClient::writeAll(const std::string& data)
{
	ERR_clear_error();
	size_t written = 0;
	return SSL_write_ex(_ssl.get(), data.data(), data.size(), &written) == 1 && written == data.size();
}

std::string TlsTestClient::readSome(int& error)
{
	ERR_clear_error();
	char buffer[16384];
	size_t n = 0;
	error = SSL_ERROR_NONE;
	if (SSL_read_ex(_ssl.get(), buffer, sizeof buffer, &n) == 1)
		return std::string(buffer, n);
	error = SSL_get_error(_ssl.get(), 0);
	ERR_clear_error();
	return {};
}

SslSessionPtr TlsTestClient::session() const
{
	return SslSessionPtr(SSL_get1_session(_ssl.get()));
}

TlsStream::Io handshakeBoth(TlsStream& server, TlsTestClient& client)
{
	TlsStream::Io io = TlsStream::Io::WANT_READ;
	int clientState = 0;
	for (int round = 0; round < MAX_ROUNDS; ++round)
	{
		io = server.handshake();
		if (io == TlsStream::Io::FAILED || io == TlsStream::Io::CLOSED)
			return io;
		if (clientState == 0)
			clientState = client.step();
		if (clientState < 0)
		{
			io = server.handshake(); // reads the client's alert, if it sent one
			return io == TlsStream::Io::OK ? TlsStream::Io::FAILED : io;
		}
		if (io == TlsStream::Io::OK && clientState == 1)
			return io;
	}
	return io;
}

bool serverToClient(TlsStream& server, TlsTestClient& client, const std::string& data)
{
	size_t sent = 0;
	std::string received;
	for (int round = 0; round < MAX_ROUNDS && received.size() < data.size(); ++round)
	{
		if (sent < data.size())
		{
			size_t n = 0;
			const auto io = server.write(reinterpret_cast<const uint8_t*>(data.data()) + sent, data.size() - sent, n);
			if (io == TlsStream::Io::CLOSED || io == TlsStream::Io::FAILED)
				return false;
			sent += n;
		}
		int error = 0;
		received += client.readSome(error);
		if (error != SSL_ERROR_NONE && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
			return false;
	}
	return received == data;
}

bool clientToServer(TlsTestClient& client, TlsStream& server, const std::string& data)
{
	if (!client.writeAll(data))
		return false;
	std::string received;
	uint8_t buffer[4096];
	for (int round = 0; round < MAX_ROUNDS && received.size() < data.size(); ++round)
	{
		size_t n = 0;
		const auto io = server.read(buffer, sizeof buffer, n);
		if (io == TlsStream::Io::CLOSED || io == TlsStream::Io::FAILED)
			return false;
		received.append(reinterpret_cast<const char*>(buffer), n);
	}
	return received == data;
}

} // namespace dnsproxy::test
