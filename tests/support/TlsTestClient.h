// TlsTestClient.h - an OpenSSL client on one end of a socketpair, to test the server-side TLS classes.
#pragma once

#include "frontend/tls/OpenSslPtr.h"
#include "frontend/tls/TlsStream.h"

#include <memory>
#include <string>
#include <vector>

namespace dnsproxy::test
{

/// Both ends of an AF_UNIX stream socketpair, non-blocking, closed on destruction. Ignores
/// SIGPIPE for the process (as DnsProxyApp does), so writing to a closed end gives EPIPE.
class SocketPair
{
public:
	SocketPair();
	~SocketPair();
	SocketPair(const SocketPair&) = delete;
	SocketPair& operator=(const SocketPair&) = delete;

	int server() const
	{
		return _fds[0];
	}
	int client() const
	{
		return _fds[1];
	}
	/// Closes the client end (EOF for the server, without close_notify).
	void closeClient();

private:
	int _fds[2] = {-1, -1};
};

struct SslSessionDeleter
{
	void operator()(SSL_SESSION* session) const
	{
		SSL_SESSION_free(session);
	}
};
using SslSessionPtr = std::unique_ptr<SSL_SESSION, SslSessionDeleter>;

/// How the client connects.
struct TlsClientOptions
{
	std::vector<std::string> alpn;  ///< offered in this order; empty = no ALPN extension
	int maxVersion = 0;             ///< e.g. TLS1_2_VERSION; 0 = OpenSSL's highest
	SSL_SESSION* session = nullptr; ///< offered for resumption (not owned)
};

/// A non-blocking OpenSSL client that does not verify the server (tests check the presented key).
class TlsTestClient
{
public:
	TlsTestClient(int fd, const TlsClientOptions& options = {});
	~TlsTestClient();
	TlsTestClient(const TlsTestClient&) = delete;
	TlsTestClient& operator=(const TlsTestClient&) = delete;

	/// One non-blocking handshake step: 1 done, 0 in progress, -1 failed.
	int step();
	bool resumed() const;
	std::string alpn() const;
	/// base64 SHA-256 SPKI of the server certificate of this session (after a resumption, the one
	/// the original handshake presented).
	std::string peerPin() const;
	/// Writes all of `data` (the socket buffer is assumed big enough).
	bool writeAll(const std::string& data);
	/// What one SSL_read gives: bytes, or "" with `error` set to SSL_get_error's value.
	std::string readSome(int& error);
	/// The session to resume with, after the client has read something (TLS 1.3 tickets come
	/// with the first read, SPEC 5).
	SslSessionPtr session() const;
	SSL* ssl() const
	{
		return _ssl.get();
	}

private:
	dnsproxy::frontend::tls::SslCtxPtr _ctx;
	dnsproxy::frontend::tls::SslPtr _ssl;
};

/// A server TlsStream and a TlsTestClient on a fresh socketpair.
struct TlsTestConnection
{
	TlsTestConnection(std::shared_ptr<SSL_CTX> ctx, const TlsClientOptions& options = {}):
		server(std::move(ctx), sockets.server()),
		client(sockets.client(), options)
	{
	}
	SocketPair sockets;
	dnsproxy::frontend::tls::TlsStream server;
	TlsTestClient client;
};

/// Alternates server.handshake() and client.step() until both are done or one fails; returns the
/// server's last result (OK when both finished).
dnsproxy::frontend::tls::TlsStream::Io handshakeBoth(dnsproxy::frontend::tls::TlsStream& server, TlsTestClient& client);

/// Server writes `data`, the client reads it all (pumping until it has it); false on any failure.
bool serverToClient(dnsproxy::frontend::tls::TlsStream& server, TlsTestClient& client, const std::string& data);

/// Client writes `data`, the server reads it all; false on any failure.
bool clientToServer(TlsTestClient& client, dnsproxy::frontend::tls::TlsStream& server, const std::string& data);

} // namespace dnsproxy::test
