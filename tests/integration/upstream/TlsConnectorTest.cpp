// TlsConnectorTest.cpp - the TLS policy against a real handshake: strict profile, wrong name, resumption, downgrade
// refusal.
#include "upstream/TlsConnector.h"

#include "dns/Header.h"
#include "support/FakeDotServer.h"
#include "support/PacketBuilder.h"
#include "upstream/TlsContextFactory.h"

#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <optional>
#include <string>
#include <vector>

using namespace dnsproxy;
using dnsproxy::test::FakeDotServer;
using dnsproxy::test::PacketBuilder;
using upstream::TlsConnector;

namespace
{

/// Remembers TLS history only; accepts every chain.
class HistoryPins: public upstream::PinSource
{
public:
	bool accept(const std::string&, const upstream::PeerChain&, std::string&) override
	{
		return true;
	}
	void verified(const std::string&, const upstream::PeerChain&) override
	{
	}
	bool hasSpokenTls(const std::string&) override
	{
		return spoken;
	}
	void spokeTls(const std::string&) override
	{
		spoken = true;
	}
	bool spoken = false;
};

Poco::Net::Context::Ptr clientContext()
{
	upstream::TlsSettings tls;
	tls.caFile = std::string(DNSPROXY_TEST_DATA) + "/certs/ca.pem";
	return upstream::TlsContextFactory::createClientContext(tls);
}

struct Opened
{
	Poco::Net::StreamSocket socket;
	bool secure = false;
	int count = 0;
	TlsConnector::Opened callback()
	{
		return [this](Poco::Net::StreamSocket s, bool isSecure) {
			socket = s;
			secure = isSecure;
			++count;
		};
	}
};

/// A FakeDotServer and a strict-profile TlsConnector to it under `authName`, with the stats it
/// counts into.
struct StrictToFake
{
	explicit StrictToFake(const std::string& authName):
		connector({server.address(), authName}, clientContext(), {}, stats, nullptr, Poco::Logger::get("test"))
	{
	}

	FakeDotServer server;
	stats::UpstreamStats stats;
	TlsConnector connector;
};

/// One query and its answer on a blocking stream, so that TLS 1.3 session tickets arrive.
void exchange(Poco::Net::StreamSocket& socket)
{
	const auto query = PacketBuilder().header(0x1234, dns::Header::RD, 1, 0, 0, 0).question("a.example", 1).data();
	const auto frame = test::tcpFramed(query);
	socket.setReceiveTimeout(Poco::Timespan(5, 0));
	CPPUNIT_ASSERT_EQUAL(static_cast<int>(frame.size()),
						 socket.sendBytes(frame.data(), static_cast<int>(frame.size())));
	std::vector<uint8_t> stream;
	std::optional<std::vector<uint8_t>> answer;
	uint8_t buffer[4096];
	while (!(answer = test::takeTcpFrame(stream)))
	{
		int n = socket.receiveBytes(buffer, sizeof(buffer));
		CPPUNIT_ASSERT(n > 0);
		stream.insert(stream.end(), buffer, buffer + n);
	}
	CPPUNIT_ASSERT_EQUAL(uint16_t(0x1234), dns::readId(answer->data()));
}

/// A loopback port on which nothing listens (bound, closed again).
Poco::Net::SocketAddress closedPort()
{
	Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
	Poco::Net::SocketAddress address = socket.address();
	socket.close();
	return address;
}

} // namespace

class TlsConnectorTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TlsConnectorTest);
	CPPUNIT_TEST(testStrictProfileConnectsAuthenticated);
	CPPUNIT_TEST(testStrictProfileRefusesWrongNameWithoutFallback);
	CPPUNIT_TEST(testResumesSessionTakenAfterAnswer);
	CPPUNIT_TEST(testNoClearTextForServerThatSpokeTls);
	CPPUNIT_TEST_SUITE_END();

public:
	void testStrictProfileConnectsAuthenticated()
	{
		StrictToFake to("dot.example");
		Opened opened;
		TlsConnector::Failure failure;
		CPPUNIT_ASSERT(to.connector.connect(opened.callback(), failure));
		CPPUNIT_ASSERT(opened.secure);
		CPPUNIT_ASSERT_EQUAL(static_cast<int>(upstream::TRANSPORT_AUTHENTICATED_TLS), to.stats.transport.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), to.stats.unauthenticatedTls.load());
		exchange(opened.socket);
	}

	void testStrictProfileRefusesWrongNameWithoutFallback()
	{
		StrictToFake to("other.example");
		Opened opened;
		TlsConnector::Failure failure;
		CPPUNIT_ASSERT(!to.connector.connect(opened.callback(), failure));
		CPPUNIT_ASSERT_EQUAL(0, opened.count);
		CPPUNIT_ASSERT(!failure.error.empty());
		CPPUNIT_ASSERT(!failure.refusedByPin);
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), to.stats.clearTextFallbacks.load());
	}

	void testResumesSessionTakenAfterAnswer()
	{
		StrictToFake to("dot.example");
		Opened first;
		TlsConnector::Failure failure;
		CPPUNIT_ASSERT(to.connector.connect(first.callback(), failure));
		exchange(first.socket);
		to.connector.answered(first.socket);
		first.socket.close();
		Opened second;
		CPPUNIT_ASSERT(to.connector.connect(second.callback(), failure));
		exchange(second.socket);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), to.stats.tlsResumptions.load());
		// A resumed handshake shows no certificate; it counts as authenticated like the first.
		CPPUNIT_ASSERT_EQUAL(static_cast<int>(upstream::TRANSPORT_AUTHENTICATED_TLS), to.stats.transport.load());
	}

	void testNoClearTextForServerThatSpokeTls()
	{
		stats::UpstreamStats stats;
		HistoryPins pins;
		pins.spoken = true;
		upstream::ConnectionSettings settings;
		settings.opportunistic = true;
		settings.timeoutMs = 1000;
		TlsConnector connector({closedPort(), "dot.example"}, clientContext(), settings, stats, &pins,
							   Poco::Logger::get("test"));
		Opened opened;
		TlsConnector::Failure failure;
		CPPUNIT_ASSERT(!connector.connect(opened.callback(), failure));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), stats.downgradesRefused.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), stats.clearTextFallbacks.load());
		CPPUNIT_ASSERT(failure.error.find("downgrade refused") != std::string::npos);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TlsConnectorTest, "upstream");
CPPUNIT_REGISTRY_ADD("upstream", "integration");
