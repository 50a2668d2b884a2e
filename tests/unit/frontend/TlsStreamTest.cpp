// TlsStreamTest.cpp - server-side non-blocking TLS over a socketpair against an OpenSSL client.
#include "frontend/tls/TlsStream.h"
#include "frontend/tls/TlsServerContext.h"
#include "support/TlsTestClient.h"

#include <cppunit/extensions/HelperMacros.h>

#include <openssl/err.h>

#include <unistd.h>

#include <memory>

using dnsproxy::frontend::tls::Alpn;
using dnsproxy::frontend::tls::TlsServerContext;
using dnsproxy::frontend::tls::TlsServerSettings;
using dnsproxy::frontend::tls::TlsStream;
using dnsproxy::test::SocketPair;
using dnsproxy::test::TlsClientOptions;
using dnsproxy::test::TlsTestClient;
using Io = TlsStream::Io;

namespace
{

TlsServerSettings testCertificate(const std::string& minVersion = "1.2")
{
	TlsServerSettings settings;
	settings.certFile = DNSPROXY_TEST_DATA "/certs/server.pem";
	settings.keyFile = DNSPROXY_TEST_DATA "/certs/server.key";
	settings.minVersion = minVersion;
	return settings;
}

/// One server stream and one client on a fresh socketpair, for the listener kind.
struct Connection: dnsproxy::test::TlsTestConnection
{
	Connection(const TlsServerContext& context, Alpn kind, const TlsClientOptions& options = {}):
		TlsTestConnection(context.context(kind), options)
	{
	}
};

std::string alpnOf(Alpn kind, std::vector<std::string> offered, Io expected = Io::OK)
{
	TlsServerContext context(testCertificate());
	TlsClientOptions options;
	options.alpn = std::move(offered);
	Connection c(context, kind, options);
	CPPUNIT_ASSERT(expected == dnsproxy::test::handshakeBoth(c.server, c.client));
	CPPUNIT_ASSERT_EQUAL(c.server.alpn(), c.client.alpn());
	return c.server.alpn();
}

} // namespace

class TlsStreamTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TlsStreamTest);
	CPPUNIT_TEST(testHandshakeAndDataBothWaysTls13);
	CPPUNIT_TEST(testHandshakeTls12);
	CPPUNIT_TEST(testMinVersion13RefusesTls12Client);
	CPPUNIT_TEST(testDotSelectsDot);
	CPPUNIT_TEST(testDotAcceptsNoAlpn);
	CPPUNIT_TEST(testDotAcceptsOtherAlpnWithoutSelecting);
	CPPUNIT_TEST(testDohPrefersH2);
	CPPUNIT_TEST(testDohSelectsHttp11);
	CPPUNIT_TEST(testDohWithoutAlpnSelectsNothing);
	CPPUNIT_TEST(testDohRefusesDotOnlyClient);
	CPPUNIT_TEST(testReadReportsCloseNotifyAsClosed);
	CPPUNIT_TEST(testReadReportsEofAsClosed);
	CPPUNIT_TEST(testPlainTextClientFailsHandshakeAndLeavesErrorQueueEmpty);
	CPPUNIT_TEST(testBufferedInputIsDrainedByRepeatedReads);
	CPPUNIT_TEST(testHalfRecordTakenByReadAheadIsBufferedInput);
	CPPUNIT_TEST(testPartialWritesResumeWithTheSameBytes);
	CPPUNIT_TEST(testShutdownSendsCloseNotify);
	CPPUNIT_TEST(testHandshakeCompletesInsideRead);
	CPPUNIT_TEST_SUITE_END();

public:
	void testHandshakeAndDataBothWaysTls13()
	{
		TlsServerContext context(testCertificate());
		Connection c(context, Alpn::DOT);
		CPPUNIT_ASSERT(!c.server.handshakeDone());
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		CPPUNIT_ASSERT(c.server.handshakeDone());
		CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.3"), c.server.version());
		CPPUNIT_ASSERT(!c.server.resumed());
		CPPUNIT_ASSERT_EQUAL(std::string("dot.example"), c.server.serverName());
		CPPUNIT_ASSERT(dnsproxy::test::clientToServer(c.client, c.server, "query from the client"));
		CPPUNIT_ASSERT(dnsproxy::test::serverToClient(c.server, c.client, "answer from the server"));
	}

	void testHandshakeTls12()
	{
		TlsServerContext context(testCertificate());
		TlsClientOptions options;
		options.maxVersion = TLS1_2_VERSION;
		Connection c(context, Alpn::DOT, options);
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.2"), c.server.version());
		CPPUNIT_ASSERT_EQUAL(std::string("ECDHE-ECDSA-AES128-GCM-SHA256"), c.server.cipher());
		CPPUNIT_ASSERT(dnsproxy::test::clientToServer(c.client, c.server, "ping"));
		CPPUNIT_ASSERT(dnsproxy::test::serverToClient(c.server, c.client, "pong"));
	}

	void testMinVersion13RefusesTls12Client()
	{
		TlsServerContext context(testCertificate("1.3"));
		TlsClientOptions options;
		options.maxVersion = TLS1_2_VERSION;
		Connection c(context, Alpn::DOT, options);
		CPPUNIT_ASSERT(Io::FAILED == dnsproxy::test::handshakeBoth(c.server, c.client));
		CPPUNIT_ASSERT(!c.server.lastError().empty());
	}

	void testDotSelectsDot()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("dot"), alpnOf(Alpn::DOT, {"h2", "dot"}));
	}

	void testDotAcceptsNoAlpn()
	{
		CPPUNIT_ASSERT_EQUAL(std::string(""), alpnOf(Alpn::DOT, {}));
	}

	void testDotAcceptsOtherAlpnWithoutSelecting()
	{
		CPPUNIT_ASSERT_EQUAL(std::string(""), alpnOf(Alpn::DOT, {"h2", "http/1.1"}));
	}

	void testDohPrefersH2()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("h2"), alpnOf(Alpn::DOH, {"http/1.1", "h2"}));
	}

	void testDohSelectsHttp11()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("http/1.1"), alpnOf(Alpn::DOH, {"spdy/3", "http/1.1"}));
	}

	void testDohWithoutAlpnSelectsNothing()
	{
		CPPUNIT_ASSERT_EQUAL(std::string(""), alpnOf(Alpn::DOH, {}));
	}

	void testDohRefusesDotOnlyClient()
	{
		TlsServerContext context(testCertificate());
		TlsClientOptions options;
		options.alpn = {"dot"};
		Connection c(context, Alpn::DOH, options);
		CPPUNIT_ASSERT(Io::FAILED == dnsproxy::test::handshakeBoth(c.server, c.client));
		CPPUNIT_ASSERT(c.server.lastError().find("no application protocol") != std::string::npos);
	}

	void testReadReportsCloseNotifyAsClosed()
	{
		TlsServerContext context(testCertificate());
		Connection c(context, Alpn::DOT);
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		SSL_shutdown(c.client.ssl());
		uint8_t buffer[64];
		size_t n = 1;
		CPPUNIT_ASSERT(Io::CLOSED == readUntilNotWantRead(c.server, buffer, sizeof buffer, n));
		CPPUNIT_ASSERT_EQUAL(size_t(0), n);
	}

	void testReadReportsEofAsClosed()
	{
		TlsServerContext context(testCertificate());
		Connection c(context, Alpn::DOT);
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		c.sockets.closeClient();
		uint8_t buffer[64];
		size_t n = 0;
		CPPUNIT_ASSERT(Io::CLOSED == readUntilNotWantRead(c.server, buffer, sizeof buffer, n));
		// Control: nothing after the peer is gone, and no close_notify to a dead socket.
		CPPUNIT_ASSERT(Io::CLOSED == c.server.read(buffer, sizeof buffer, n));
		c.server.shutdown();
	}

	void testPlainTextClientFailsHandshakeAndLeavesErrorQueueEmpty()
	{
		TlsServerContext context(testCertificate());
		SocketPair sockets;
		TlsStream server(context.context(Alpn::DOH), sockets.server());
		const std::string request = "GET /dns-query HTTP/1.1\r\nHost: x\r\n\r\n";
		CPPUNIT_ASSERT(::write(sockets.client(), request.data(), request.size()) > 0);
		CPPUNIT_ASSERT(Io::FAILED == server.handshake());
		CPPUNIT_ASSERT_EQUAL(0ul, ERR_peek_error());
		CPPUNIT_ASSERT(!server.lastError().empty());
		// Control: a TLS client on the same context still gets in.
		Connection c(context, Alpn::DOH);
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
	}

	void testBufferedInputIsDrainedByRepeatedReads()
	{
		TlsServerContext context(testCertificate());
		Connection c(context, Alpn::DOT);
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		const std::string message(1000, 'q');
		CPPUNIT_ASSERT(c.client.writeAll(message));
		uint8_t small[10];
		size_t n = 0;
		CPPUNIT_ASSERT(Io::OK == readUntilNotWantRead(c.server, small, sizeof small, n));
		CPPUNIT_ASSERT_EQUAL(size_t(10), n);
		CPPUNIT_ASSERT(c.server.hasBufferedInput());
		size_t total = n;
		while (c.server.hasBufferedInput())
		{
			CPPUNIT_ASSERT(Io::OK == c.server.read(small, sizeof small, n));
			total += n;
		}
		CPPUNIT_ASSERT_EQUAL(message.size(), total);
		CPPUNIT_ASSERT(Io::WANT_READ == c.server.read(small, sizeof small, n));
	}

	void testHalfRecordTakenByReadAheadIsBufferedInput()
	{
		TlsServerContext context(testCertificate());
		Connection c(context, Alpn::DOT);
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		// The client's next record goes to memory, and only its first half to the socket.
		BIO* memory = BIO_new(BIO_s_mem());
		BIO_up_ref(memory);
		SSL_set0_wbio(c.client.ssl(), memory);
		CPPUNIT_ASSERT(c.client.writeAll("a query that a slow client sends in two halves"));
		char* record = nullptr;
		const long length = BIO_get_mem_data(memory, &record);
		const std::string bytes(record, static_cast<size_t>(length));
		BIO_free(memory);
		const size_t half = bytes.size() / 2;
		CPPUNIT_ASSERT_EQUAL(ssize_t(half), ::write(c.sockets.client(), bytes.data(), half));
		uint8_t buffer[128];
		size_t n = 0;
		CPPUNIT_ASSERT(Io::WANT_READ == c.server.read(buffer, sizeof buffer, n));
		// Read-ahead took the half record off the socket: epoll will not report it again, so it
		// counts as buffered (the caller reads once more when it resumes reading, and gets
		// WANT_READ again; it never loops "while buffered").
		CPPUNIT_ASSERT(c.server.hasBufferedInput());
		CPPUNIT_ASSERT(Io::WANT_READ == c.server.read(buffer, sizeof buffer, n));
		CPPUNIT_ASSERT_EQUAL(ssize_t(bytes.size() - half),
							 ::write(c.sockets.client(), bytes.data() + half, bytes.size() - half));
		CPPUNIT_ASSERT(Io::OK == c.server.read(buffer, sizeof buffer, n));
		CPPUNIT_ASSERT_EQUAL(std::string("a query that a slow client sends in two halves"),
							 std::string(reinterpret_cast<char*>(buffer), n));
		CPPUNIT_ASSERT(!c.server.hasBufferedInput());
	}

	void testPartialWritesResumeWithTheSameBytes()
	{
		TlsServerContext context(testCertificate());
		Connection c(context, Alpn::DOT);
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		std::string big(4 << 20, '\0');
		for (size_t i = 0; i < big.size(); ++i)
			big[i] = static_cast<char>(i * 7 + i / 251);
		const auto* bytes = reinterpret_cast<const uint8_t*>(big.data());
		// The client does not read yet: the socket fills and the server gets WANT_WRITE.
		size_t sent = 0;
		size_t n = 0;
		Io io = c.server.write(bytes, big.size(), n);
		CPPUNIT_ASSERT(Io::OK == io);
		CPPUNIT_ASSERT(n > 0 && n < big.size()); // partial: one record at a time
		sent += n;
		while (io == Io::OK)
		{
			io = c.server.write(bytes + sent, big.size() - sent, n);
			sent += n;
		}
		CPPUNIT_ASSERT(Io::WANT_WRITE == io);
		// Now the client drains while the server retries with the bytes from where it stopped.
		std::string received;
		for (int round = 0; round < 100000 && received.size() < big.size(); ++round)
		{
			if (sent < big.size())
			{
				io = c.server.write(bytes + sent, big.size() - sent, n);
				CPPUNIT_ASSERT(io == Io::OK || io == Io::WANT_WRITE);
				sent += n;
			}
			int error = 0;
			received += c.client.readSome(error);
		}
		CPPUNIT_ASSERT_EQUAL(big.size(), received.size());
		CPPUNIT_ASSERT(big == received);
	}

	void testShutdownSendsCloseNotify()
	{
		TlsServerContext context(testCertificate());
		Connection c(context, Alpn::DOT);
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		c.server.shutdown();
		c.server.shutdown(); // once only, and harmless
		int error = 0;
		std::string got = c.client.readSome(error);
		CPPUNIT_ASSERT(got.empty());
		CPPUNIT_ASSERT_EQUAL(SSL_ERROR_ZERO_RETURN, error);
	}

	void testHandshakeCompletesInsideRead()
	{
		TlsServerContext context(testCertificate());
		Connection c(context, Alpn::DOT);
		uint8_t buffer[64];
		size_t n = 0;
		Io io = Io::WANT_READ;
		int clientState = 0;
		for (int round = 0; round < 1000 && io == Io::WANT_READ; ++round)
		{
			io = c.server.read(buffer, sizeof buffer, n);
			if (clientState == 0 && (clientState = c.client.step()) == 1)
				CPPUNIT_ASSERT(c.client.writeAll("hi"));
		}
		CPPUNIT_ASSERT(Io::OK == io);
		CPPUNIT_ASSERT(c.server.handshakeDone());
		CPPUNIT_ASSERT_EQUAL(std::string("hi"), std::string(reinterpret_cast<char*>(buffer), n));
	}

private:
	/// Reads once the data has crossed the socketpair (it has by the time the client call
	/// returned, but a few WANT_READs are allowed for records split across reads).
	static Io readUntilNotWantRead(TlsStream& stream, uint8_t* buffer, size_t capacity, size_t& n)
	{
		Io io = Io::WANT_READ;
		for (int round = 0; round < 100 && io == Io::WANT_READ; ++round)
			io = stream.read(buffer, capacity, n);
		return io;
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TlsStreamTest, "frontend");
