// AdminServerTest.cpp - AdminServer over real loopback HTTP: routing through Poco, body limits,
// bodiless POSTs, bind failures, concurrent clients and stop() with a client connected.
#include "admin/AdminServer.h"

#include "support/AdminTestData.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

using namespace dnsproxy::admin;

namespace
{

struct Reply
{
	int status = 0;
	std::string body;
	std::string allow;
};

Reply call(uint16_t port, const std::string& method, const std::string& uri, const std::string& body = "",
		   const std::string& token = "", bool sendBody = true)
{
	Poco::Net::HTTPClientSession session("127.0.0.1", port);
	session.setTimeout(Poco::Timespan(5, 0));
	Poco::Net::HTTPRequest request(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
	if (!token.empty())
		request.set("Authorization", "Bearer " + token);
	if (sendBody)
		request.setContentLength(static_cast<std::streamsize>(body.size()));
	std::ostream& out = session.sendRequest(request);
	out << body;
	Poco::Net::HTTPResponse response;
	std::istream& in = session.receiveResponse(response);
	Reply reply;
	reply.status = response.getStatus();
	reply.allow = response.get("Allow", "");
	Poco::StreamCopier::copyToString(in, reply.body);
	return reply;
}

} // namespace

class AdminServerTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AdminServerTest);
	CPPUNIT_TEST(testServesStatsOnEphemeralPort);
	CPPUNIT_TEST(testPassesQueryParametersDecoded);
	CPPUNIT_TEST(testAnswers405WithAllowHeader);
	CPPUNIT_TEST(testDeclaredBodyOver64KiBIs413WithoutReadingIt);
	CPPUNIT_TEST(testPostWithoutContentLengthDoesNotWaitForClose);
	CPPUNIT_TEST(testApprovesPinWithToken);
	CPPUNIT_TEST(testBindFailureThrowsNamingAddress);
	CPPUNIT_TEST(testAnswersManyConcurrentClients);
	CPPUNIT_TEST(testStopsWithIdleClientConnected);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_stats = std::make_unique<dnsproxy::test::FakeStats>();
		_cache = std::make_unique<dnsproxy::test::FakeCache>();
		_pins = std::make_unique<dnsproxy::test::FakePins>();
		AdminSettings settings;
		settings.listen = "127.0.0.1:0";
		settings.token = "s3cret";
		_server = std::make_unique<AdminServer>(settings, sources());
		_server->start();
	}

	void tearDown() override
	{
		_server.reset();
	}

	void testServesStatsOnEphemeralPort()
	{
		CPPUNIT_ASSERT(_server->port() != 0);
		Reply r = call(_server->port(), "GET", "/stats");
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT(r.body.find("\"udp\": 70") != std::string::npos);
	}

	void testPassesQueryParametersDecoded()
	{
		Reply r = call(_server->port(), "GET", "/cache?name=A%2EExample&type=aaaa");
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("a.example."), _cache->lastFindName);
		CPPUNIT_ASSERT_EQUAL(uint16_t(28), _cache->lastFindType.value_or(0));
	}

	void testAnswers405WithAllowHeader()
	{
		Reply r = call(_server->port(), "DELETE", "/stats", "", "s3cret");
		CPPUNIT_ASSERT_EQUAL(405, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("GET"), r.allow);
	}

	void testDeclaredBodyOver64KiBIs413WithoutReadingIt()
	{
		// Declares 1 MiB but sends only the headers: the answer must not wait for the body.
		Poco::Net::HTTPClientSession session("127.0.0.1", _server->port());
		session.setTimeout(Poco::Timespan(5, 0));
		Poco::Net::HTTPRequest request("POST", "/pins", Poco::Net::HTTPMessage::HTTP_1_1);
		request.set("Authorization", "Bearer s3cret");
		request.setContentLength(1 << 20);
		session.sendRequest(request);
		Poco::Net::HTTPResponse response;
		session.receiveResponse(response);
		CPPUNIT_ASSERT_EQUAL(413, static_cast<int>(response.getStatus()));
	}

	void testPostWithoutContentLengthDoesNotWaitForClose()
	{
		const auto start = std::chrono::steady_clock::now();
		Reply r = call(_server->port(), "POST", "/pins", "", "s3cret", false);
		CPPUNIT_ASSERT_EQUAL(400, r.status); // an empty body is not a JSON object
		CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
	}

	void testApprovesPinWithToken()
	{
		const std::string pin = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
		Reply r = call(_server->port(), "POST", "/pins", "{\"name\": \"dot.example\", \"sha256\": \"" + pin + "\"}",
					   "s3cret");
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _pins->records.size());
		CPPUNIT_ASSERT_EQUAL(401, call(_server->port(), "DELETE", "/pins/dot.example").status);
	}

	void testBindFailureThrowsNamingAddress()
	{
		AdminSettings settings;
		settings.listen = "127.0.0.1:" + std::to_string(_server->port());
		AdminServer second(settings, sources());
		try
		{
			second.start();
			CPPUNIT_FAIL("second server bound a port in use");
		}
		catch (const AdminBindError& e)
		{
			CPPUNIT_ASSERT(std::string(e.what()).find(settings.listen) != std::string::npos);
		}
	}

	void testAnswersManyConcurrentClients()
	{
		std::atomic<int> ok{0};
		std::vector<std::thread> clients;
		for (int i = 0; i < 64; ++i)
		{
			clients.emplace_back([this, &ok] {
				if (call(_server->port(), "GET", "/metrics").status == 200)
					++ok;
			});
		}
		for (auto& t : clients)
			t.join();
		CPPUNIT_ASSERT_EQUAL(64, ok.load());
	}

	void testStopsWithIdleClientConnected()
	{
		Poco::Net::StreamSocket idle(Poco::Net::SocketAddress("127.0.0.1", _server->port()));
		const auto start = std::chrono::steady_clock::now();
		_server->stop();
		CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), _server->port());
	}

private:
	AdminSources sources()
	{
		AdminSources s;
		s.stats = _stats.get();
		s.health = _stats.get();
		s.cache = _cache.get();
		s.pins = _pins.get();
		return s;
	}

	std::unique_ptr<dnsproxy::test::FakeStats> _stats;
	std::unique_ptr<dnsproxy::test::FakeCache> _cache;
	std::unique_ptr<dnsproxy::test::FakePins> _pins;
	std::unique_ptr<AdminServer> _server;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(AdminServerTest, "admin");
CPPUNIT_REGISTRY_ADD("admin", "integration");
