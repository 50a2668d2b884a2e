// UpstreamPoolTest.cpp - UpstreamPool::reconfigure (SIGHUP reload) against in-process DoT servers:
// a server that stays keeps its connection, a new list is used from the next query on.
#include "support/FakeDotServer.h"
#include "support/PacketBuilder.h"
#include "support/WaitFor.h"

#include "upstream/TlsContextFactory.h"
#include "upstream/UpstreamPool.h"

#include <Poco/Net/SSLManager.h>

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <memory>
#include <string>

namespace dnsproxy::test
{

class UpstreamPoolTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(UpstreamPoolTest);
	CPPUNIT_TEST(testReconfigureKeepsTheConnectionOfAServerThatStays);
	CPPUNIT_TEST(testReconfigureSendsTheNextQueryToTheNewServers);
	CPPUNIT_TEST(testReconfigureWithNewTlsContextReconnects);
	CPPUNIT_TEST(testDroppedServerComesBackWithItsConnection);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		Poco::Net::initializeSSL();
	}

	void testReconfigureKeepsTheConnectionOfAServerThatStays()
	{
		PoolOverA fixture;
		auto& [a, b, context, pool] = fixture;
		const stats::UpstreamStats* before = &pool.servers().front()->stats;

		pool.reconfigure(settings({&a, &b}), context);
		CPPUNIT_ASSERT(ask(pool, "two.zone.example"));
		CPPUNIT_ASSERT_EQUAL(size_t(2), pool.servers().size());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), a.handshakes()); // the same connection answered
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), a.queriesReceived());
		CPPUNIT_ASSERT(before == &pool.servers().front()->stats); // its counters too
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), b.queriesReceived());   // failover: the first server first
	}

	void testReconfigureSendsTheNextQueryToTheNewServers()
	{
		PoolOverA fixture;
		auto& [a, b, context, pool] = fixture;
		pool.reconfigure(settings({&b}), context);
		CPPUNIT_ASSERT(ask(pool, "two.zone.example"));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), a.queriesReceived());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), b.queriesReceived());
		CPPUNIT_ASSERT_EQUAL(size_t(1), pool.servers().size());
		CPPUNIT_ASSERT_EQUAL(b.address().toString(), pool.servers().front()->endpoint.address.toString());
	}

	void testReconfigureWithNewTlsContextReconnects()
	{
		FakeDotServer a;
		upstream::UpstreamPool pool(settings({&a}), makeContext());
		CPPUNIT_ASSERT(ask(pool, "one.zone.example"));
		pool.reconfigure(settings({&a}), makeContext()); // e.g. a new CA bundle or pins
		CPPUNIT_ASSERT(ask(pool, "two.zone.example"));
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), a.handshakes());
	}

	void testDroppedServerComesBackWithItsConnection()
	{
		PoolOverA fixture;
		auto& [a, b, context, pool] = fixture;
		pool.reconfigure(settings({&b}), context);
		pool.reconfigure(settings({&a}), context); // back before its connection was stopped
		CPPUNIT_ASSERT(ask(pool, "two.zone.example"));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), a.handshakes());
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), a.queriesReceived());
	}

private:
	/// Servers a and b, and a pool over a alone that has answered one query.
	struct PoolOverA
	{
		FakeDotServer a;
		FakeDotServer b;
		Poco::Net::Context::Ptr context = makeContext();
		upstream::UpstreamPool pool{settings({&a}), context};

		PoolOverA()
		{
			CPPUNIT_ASSERT(ask(pool, "one.zone.example"));
		}
	};

	static Poco::Net::Context::Ptr makeContext()
	{
		upstream::TlsSettings tls;
		tls.caFile = std::string(DNSPROXY_TEST_DATA) + "/certs/ca.pem";
		return upstream::TlsContextFactory::createClientContext(tls);
	}

	static upstream::PoolSettings settings(std::initializer_list<const FakeDotServer*> servers)
	{
		upstream::PoolSettings pool;
		for (const auto* server : servers)
			pool.servers.push_back(upstream::ServerEndpoint{server->address(), "dot.example"});
		pool.connection.timeoutMs = 2000;
		return pool;
	}

	/// Resolves `name` (A) through the pool; true when answered within 5 s.
	static bool ask(upstream::UpstreamPool& pool, const std::string& name)
	{
		auto answered = std::make_shared<std::atomic<int>>(0); // 1 = OK, 2 = anything else
		PacketBuilder query;
		query.header(0x1234, 0x0100, 1, 0, 0, 0).question(name, 1);
		pool.resolve(std::vector<uint8_t>(query.data()), [answered](upstream::UpstreamResult&& result) {
			answered->store(result.status == upstream::UpstreamResult::Status::OK ? 1 : 2);
		});
		return waitFor([&] { return answered->load() != 0; }) && answered->load() == 1;
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(UpstreamPoolTest, "upstream");
CPPUNIT_REGISTRY_ADD("upstream", "integration");

} // namespace dnsproxy::test
