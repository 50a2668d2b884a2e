// ProxyIntegrationTest.cpp - the whole chain in-process: UDP/TCP client -> Frontend -> QueryPipeline ->
// UpstreamPool -> TLS -> FakeDotServer, on loopback sockets with ephemeral ports.
#include "support/DnsClient.h"
#include "support/FakeDotServer.h"
#include "support/InProcessProxy.h"
#include "support/MessageFields.h"
#include "support/PacketBuilder.h"
#include "support/WaitFor.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace dnsproxy::test
{

namespace
{

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr uint16_t TYPE_A = 1;
constexpr uint16_t FLAG_RD = 0x0100;
constexpr int RCODE_NOERROR = 0;
constexpr int RCODE_FORMERR = 1;
constexpr int RCODE_SERVFAIL = 2;
constexpr int RCODE_NOTIMP = 4;
constexpr int RCODE_REFUSED = 5;

std::vector<uint8_t> makeQuery(uint16_t id, const std::string& name, uint16_t flags = FLAG_RD)
{
	return PacketBuilder().header(id, flags, 1, 0, 0, 0).question(name, TYPE_A).data();
}

std::string hex(const uint8_t* data, size_t length)
{
	std::string text;
	char digits[3];
	for (size_t i = 0; i < length; ++i)
	{
		std::snprintf(digits, sizeof(digits), "%02x", data[i]);
		text += digits;
	}
	return text;
}

/// The question section (name as written, type, class) of a message with one uncompressed question.
std::string questionHex(const std::vector<uint8_t>& message)
{
	size_t offset = 12;
	while (offset < message.size() && message[offset] != 0 && (message[offset] & 0xc0) == 0)
		offset += 1 + message[offset];
	size_t end = std::min(message.size(), offset + 1 + 4);
	return message.size() < 12 ? std::string() : hex(message.data() + 12, end - 12);
}

/// The answer FakeDotServer gives, as the client must see it: its ID, its question bytes, NOERROR,
/// one answer ending in the address 192.0.2.1.
void assertForwardedAnswer(const std::vector<uint8_t>& query, const std::vector<uint8_t>& answer)
{
	CPPUNIT_ASSERT(answer.size() >= 16);
	CPPUNIT_ASSERT(isResponse(answer));
	CPPUNIT_ASSERT_EQUAL(idOf(query), idOf(answer));
	CPPUNIT_ASSERT_EQUAL(RCODE_NOERROR, rcodeOf(answer));
	CPPUNIT_ASSERT_EQUAL(uint16_t(1), headerOf(answer).ancount);
	CPPUNIT_ASSERT_EQUAL(questionHex(query), questionHex(answer));
	CPPUNIT_ASSERT_EQUAL(std::string("c0000201"), hex(answer.data() + answer.size() - 4, 4));
}

/// An error the proxy makes itself: the query's ID, QR set, the given RCODE.
void assertErrorAnswer(const std::vector<uint8_t>& query, int rcode, const std::optional<std::vector<uint8_t>>& answer)
{
	CPPUNIT_ASSERT_MESSAGE("no answer", answer.has_value());
	CPPUNIT_ASSERT(answer->size() >= 12);
	CPPUNIT_ASSERT(isResponse(*answer));
	CPPUNIT_ASSERT_EQUAL(idOf(query), idOf(*answer));
	CPPUNIT_ASSERT_EQUAL(rcode, rcodeOf(*answer));
}

InProcessProxyOptions proxyFor(const FakeDotServer& server)
{
	InProcessProxyOptions options;
	options.upstream = server.address();
	return options;
}

uint64_t value(const std::atomic<uint64_t>& counter)
{
	return counter.load();
}

} // namespace

class ProxyIntegrationTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ProxyIntegrationTest);
	CPPUNIT_TEST(testAnswersUdpAndTcpThroughOneTlsConnection);
	CPPUNIT_TEST(testReconnectsAfterServerClose);
	CPPUNIT_TEST(testReconnectsAfterServerCloseOverTls12);
	CPPUNIT_TEST(testPipelinedTcpAnswersComeOutOfOrder);
	CPPUNIT_TEST(testTimeoutGivesServfail);
	CPPUNIT_TEST(testWrongCaGivesServfail);
	CPPUNIT_TEST(testNameCaseAndIdPreserved);
	CPPUNIT_TEST(testFormerrForGarbageWithHeader);
	CPPUNIT_TEST(testNotimpForOtherOpcode);
	CPPUNIT_TEST(testRefusedOutsideAcl);
	CPPUNIT_TEST_SUITE_END();

public:
	void testAnswersUdpAndTcpThroughOneTlsConnection()
	{
		constexpr int PER_TRANSPORT = 100;
		FakeDotServer server;
		InProcessProxy proxy(proxyFor(server));

		// UDP: all queries out before any answer is read, so they overlap upstream.
		UdpDnsClient udp(proxy.udpAddress());
		std::map<int, std::vector<uint8_t>> udpQueries;
		for (int i = 0; i < PER_TRANSPORT; ++i)
		{
			auto query = makeQuery(static_cast<uint16_t>(1 + i), "u" + std::to_string(i) + ".example");
			udpQueries[idOf(query)] = query;
			udp.send(query);
		}
		// TCP: one connection, all queries pipelined in one write.
		TcpDnsClient tcp(proxy.tcpAddress());
		std::map<int, std::vector<uint8_t>> tcpQueries;
		std::vector<std::vector<uint8_t>> batch;
		for (int i = 0; i < PER_TRANSPORT; ++i)
		{
			auto query = makeQuery(static_cast<uint16_t>(1001 + i), "t" + std::to_string(i) + ".example");
			tcpQueries[idOf(query)] = query;
			batch.push_back(query);
		}
		tcp.send(batch);

		// Each query answered once, in any order.
		auto answerEach = [](auto& client, std::map<int, std::vector<uint8_t>>& queries, const std::string& transport) {
			for (int i = 0; i < PER_TRANSPORT; ++i)
			{
				auto answer = client.receive();
				CPPUNIT_ASSERT_MESSAGE(transport + " answer " + std::to_string(i) + " missing", answer.has_value());
				auto query = queries.find(idOf(*answer));
				CPPUNIT_ASSERT(query != queries.end());
				assertForwardedAnswer(query->second, *answer);
				queries.erase(query);
			}
		};
		answerEach(udp, udpQueries, "UDP");
		answerEach(tcp, tcpQueries, "TCP");

		CPPUNIT_ASSERT_EQUAL(uint64_t(2 * PER_TRANSPORT), server.queriesReceived());
		// Each query in its own TLS record (2-byte length + a query padded to 128 octets), never
		// several in one: a server that reads one message per readable event would stall on them.
		CPPUNIT_ASSERT_MESSAGE("largest TLS read: " + std::to_string(server.largestRead()),
							   server.largestRead() > 0 && server.largestRead() <= 2 + 128);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), server.handshakes());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), value(proxy.upstreamStats().connectionsOpened));
	}

	void testReconnectsAfterServerClose()
	{
		checkReconnectsWithResumption(FakeDotOptions::TlsVersion::ANY);
	}

	void testReconnectsAfterServerCloseOverTls12()
	{
		checkReconnectsWithResumption(FakeDotOptions::TlsVersion::TLS12_ONLY);
	}

	void testPipelinedTcpAnswersComeOutOfOrder()
	{
		FakeDotOptions options;
		options.delayMsByName["slow.example"] = 500;
		FakeDotServer server(options);
		InProcessProxy proxy(proxyFor(server));

		TcpDnsClient tcp(proxy.tcpAddress());
		std::vector<std::vector<uint8_t>> queries{makeQuery(1, "slow.example")};
		for (uint16_t id = 2; id <= 6; ++id)
			queries.push_back(makeQuery(id, "fast" + std::to_string(id) + ".example"));
		tcp.send(queries);

		std::vector<int> order;
		for (size_t i = 0; i < queries.size(); ++i)
		{
			auto answer = tcp.receive();
			CPPUNIT_ASSERT_MESSAGE("answer " + std::to_string(i) + " missing", answer.has_value());
			assertForwardedAnswer(queries.at(static_cast<size_t>(idOf(*answer) - 1)), *answer);
			order.push_back(idOf(*answer));
		}
		// RFC 7766 6.2.1.1: each answer goes out when ready, so the delayed first query comes last.
		CPPUNIT_ASSERT_EQUAL(1, order.back());
	}

	void testTimeoutGivesServfail()
	{
		FakeDotOptions options;
		options.answerOnlyFirst = 0;
		FakeDotServer server(options);
		InProcessProxyOptions proxyOptions = proxyFor(server);
		proxyOptions.timeoutMs = 300;
		InProcessProxy proxy(proxyOptions);

		UdpDnsClient udp(proxy.udpAddress());
		auto query = makeQuery(0x4242, "silent.example");
		auto start = Clock::now();
		auto answer = udp.exchange(query, 3000ms);
		auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);

		assertErrorAnswer(query, RCODE_SERVFAIL, answer);
		CPPUNIT_ASSERT_MESSAGE("SERVFAIL after " + std::to_string(elapsed.count()) + " ms", elapsed < 1000ms);
		// The server did get the query (it is not a connect failure); the pool may have tried again.
		CPPUNIT_ASSERT(server.queriesReceived() >= 1);
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), server.answersSent());
		CPPUNIT_ASSERT(value(proxy.upstreamStats().timeouts) >= 1);
	}

	void testWrongCaGivesServfail()
	{
		FakeDotOptions options;
		options.certFile = std::string(DNSPROXY_TEST_DATA) + "/certs/other-server.pem";
		options.keyFile = std::string(DNSPROXY_TEST_DATA) + "/certs/other-server.key";
		FakeDotServer server(options);
		InProcessProxy proxy(proxyFor(server));

		UdpDnsClient udp(proxy.udpAddress());
		auto query = makeQuery(0x5151, "untrusted.example");
		assertErrorAnswer(query, RCODE_SERVFAIL, udp.exchange(query));

		CPPUNIT_ASSERT(waitFor([&] { return server.handshakeFailures() >= 1; }));
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), server.handshakes());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), server.queriesReceived());
		CPPUNIT_ASSERT(value(proxy.upstreamStats().connectFailures) >= 1);
	}

	void testNameCaseAndIdPreserved()
	{
		FakeDotServer server;
		InProcessProxy proxy(proxyFor(server));

		auto udpQuery = makeQuery(0xbeef, "wWw.ExAmPlE.CoM");
		UdpDnsClient udp(proxy.udpAddress());
		auto udpAnswer = udp.exchange(udpQuery);
		CPPUNIT_ASSERT(udpAnswer.has_value());
		assertForwardedAnswer(udpQuery, *udpAnswer);
		CPPUNIT_ASSERT_EQUAL(0xbeef, idOf(*udpAnswer));

		auto tcpQuery = makeQuery(0xcafe, "MiXeD.CaSe.ExAmPlE");
		TcpDnsClient tcp(proxy.tcpAddress());
		tcp.send(tcpQuery);
		auto tcpAnswer = tcp.receive();
		CPPUNIT_ASSERT(tcpAnswer.has_value());
		assertForwardedAnswer(tcpQuery, *tcpAnswer);
		CPPUNIT_ASSERT_EQUAL(0xcafe, idOf(*tcpAnswer));
	}

	void testFormerrForGarbageWithHeader()
	{
		FakeDotServer server;
		InProcessProxy proxy(proxyFor(server));

		// A full header promising one question, then a 63-byte label with only two bytes behind it.
		auto query = PacketBuilder().header(0x1234, FLAG_RD, 1, 0, 0, 0).bytes({0x3f, 'a', 'b'}).data();
		UdpDnsClient udp(proxy.udpAddress());
		assertErrorAnswer(query, RCODE_FORMERR, udp.exchange(query));
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), server.queriesReceived());
	}

	void testNotimpForOtherOpcode()
	{
		FakeDotServer server;
		InProcessProxy proxy(proxyFor(server));

		constexpr uint16_t OPCODE_STATUS = 2 << 11;
		auto query = makeQuery(0x2222, "status.example", OPCODE_STATUS | FLAG_RD);
		UdpDnsClient udp(proxy.udpAddress());
		assertErrorAnswer(query, RCODE_NOTIMP, udp.exchange(query));
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), server.queriesReceived());
	}

	void testRefusedOutsideAcl()
	{
		FakeDotServer server;
		InProcessProxyOptions options = proxyFor(server);
		options.allow.push_back(InProcessProxy::ipv4Network(10, 0, 0, 0, 8));
		InProcessProxy proxy(options);

		auto query = makeQuery(0x3333, "refused.example");
		UdpDnsClient udp(proxy.udpAddress());
		assertErrorAnswer(query, RCODE_REFUSED, udp.exchange(query));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), value(proxy.frontendStats().refusedByAcl));
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), server.queriesReceived());
	}

private:
	/// The server closes every connection after 5 answers; 20 sequential queries must all be answered,
	/// over at least 4 connections that resume the TLS session (RFC 7858 section 3.4).
	void checkReconnectsWithResumption(FakeDotOptions::TlsVersion version)
	{
		FakeDotOptions options;
		options.tlsVersion = version;
		options.closeAfterAnswers = 5;
		FakeDotServer server(options);
		InProcessProxy proxy(proxyFor(server));

		UdpDnsClient udp(proxy.udpAddress());
		for (int i = 0; i < 20; ++i)
		{
			auto query = makeQuery(static_cast<uint16_t>(100 + i), "r" + std::to_string(i) + ".example");
			auto answer = udp.exchange(query);
			CPPUNIT_ASSERT_MESSAGE("query " + std::to_string(i) + " not answered", answer.has_value());
			assertForwardedAnswer(query, *answer);
		}

		// 20 answers, 5 per connection: at least 4 connections, each after the first resuming the
		// TLS session (RFC 7858 section 3.4), seen from both ends.
		CPPUNIT_ASSERT(server.handshakes() >= 4);
		CPPUNIT_ASSERT_EQUAL(server.handshakes(), value(proxy.upstreamStats().connectionsOpened));
		CPPUNIT_ASSERT_EQUAL(server.handshakes() - 1, server.resumedSessions());
		CPPUNIT_ASSERT_EQUAL(server.handshakes() - 1, value(proxy.upstreamStats().tlsResumptions));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ProxyIntegrationTest, "pipeline");
CPPUNIT_REGISTRY_ADD("pipeline", "integration");

} // namespace dnsproxy::test
