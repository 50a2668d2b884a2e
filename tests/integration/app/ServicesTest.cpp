// ServicesTest.cpp - app::Services on real sockets and a temporary database: every failed start
// stops in the order SIGTERM uses (stop accepting, in flight, cache flush, storage).
#include "integration/storage/StorageTestDir.h"

#include "app/ConfigLoader.h"
#include "app/Services.h"
#include "cache/CacheSettings.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

namespace dnsproxy::test
{

using Steps = std::vector<std::string>;
const Poco::Net::SocketAddress ANY_PORT("127.0.0.1", 0);

class ServicesTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ServicesTest);
	CPPUNIT_TEST(testSigtermStopsInTheDefinedOrder);
	CPPUNIT_TEST(testAdminAddressInUseStopsLikeSigtermAndFlushesTheCache);
	CPPUNIT_TEST(testListenerInUseStopsWhatRunsWithoutCacheFlush);
	CPPUNIT_TEST(testSecondStopDoesNothing);
	CPPUNIT_TEST(testReloadAppliesAndRecordsTheNewConfiguration);
	CPPUNIT_TEST(testReloadWithAnUnreadableCaBundleChangesNothing);
	CPPUNIT_TEST(testReloadOnAListenerInUseChangesNothing);
	CPPUNIT_TEST(testReloadKeepsRestartOnlyKeysAndNamesThem);
	CPPUNIT_TEST_SUITE_END();

public:
	void testSigtermStopsInTheDefinedOrder()
	{
		StorageTestDir dir;
		app::Services services(config(dir, ANY_PORT, "127.0.0.1:0"), mapped());
		services.open();
		services.start();
		CPPUNIT_ASSERT_EQUAL(std::string("tcp+tls://127.0.0.1:853"), services.upstreamTarget());
		services.stop();
		CPPUNIT_ASSERT(Steps({"admin", "frontend", "upstreams", "cache flush", "storage"}) == services.stoppedSteps());
	}

	void testAdminAddressInUseStopsLikeSigtermAndFlushesTheCache()
	{
		StorageTestDir dir;
		Poco::Net::ServerSocket busy(Poco::Net::SocketAddress("127.0.0.1", 0));
		app::Services services(config(dir, ANY_PORT, busy.address().toString()), mapped());
		services.open();
		const std::string error = startError(services);
		CPPUNIT_ASSERT_EQUAL(std::string("admin.listen: "), error.substr(0, 14));
		services.stop();
		// Before Services the admin-bind path returned without the cache flush.
		CPPUNIT_ASSERT(Steps({"frontend", "upstreams", "cache flush", "storage"}) == services.stoppedSteps());
	}

	void testListenerInUseStopsWhatRunsWithoutCacheFlush()
	{
		StorageTestDir dir;
		Poco::Net::ServerSocket busy(Poco::Net::SocketAddress("127.0.0.1", 0));
		app::Services services(config(dir, busy.address(), ""), mapped());
		services.open();
		const std::string error = startError(services);
		CPPUNIT_ASSERT_EQUAL(std::string("server.listen: "), error.substr(0, 15));
		services.stop();
		// Nothing was loaded yet, so there is nothing to flush; the pool and storage still close.
		CPPUNIT_ASSERT(Steps({"frontend", "upstreams", "storage"}) == services.stoppedSteps());
	}

	void testSecondStopDoesNothing()
	{
		StorageTestDir dir;
		app::Services services(config(dir, ANY_PORT, ""), mapped());
		services.open();
		services.start();
		services.stop();
		services.stop();
		CPPUNIT_ASSERT(Steps({"frontend", "upstreams", "cache flush", "storage"}) == services.stoppedSteps());
	}

	void testReloadAppliesAndRecordsTheNewConfiguration()
	{
		Started started;
		auto& [dir, services, next] = started;
		next.upstream.servers.front().address = "127.0.0.2";
		next.upstream.strategy = upstream::SelectionStrategy::ROUND_ROBIN;
		CPPUNIT_ASSERT(services.reload(next).empty());
		CPPUNIT_ASSERT_EQUAL(std::string("tcp+tls://127.0.0.2:853"), services.upstreamTarget());
		CPPUNIT_ASSERT(upstream::SelectionStrategy::ROUND_ROBIN == services.config().upstream.strategy);
	}

	void testReloadWithAnUnreadableCaBundleChangesNothing()
	{
		Started started;
		auto& [dir, services, next] = started;
		next.upstream.servers.front().address = "127.0.0.2";
		next.tls.caFile = dir.file("no-such-ca.pem");
		CPPUNIT_ASSERT_EQUAL(std::string("tls.ca_file: "), reloadError(services, next).substr(0, 13));
		CPPUNIT_ASSERT_EQUAL(std::string("tcp+tls://127.0.0.1:853"), services.upstreamTarget());
		CPPUNIT_ASSERT(services.config().tls.caFile != next.tls.caFile);
	}

	void testReloadOnAListenerInUseChangesNothing()
	{
		Poco::Net::ServerSocket busy(Poco::Net::SocketAddress("127.0.0.1", 0));
		Started started;
		auto& [dir, services, next] = started;
		next.upstream.servers.front().address = "127.0.0.2";
		next.server.listen.front().port = busy.address().port();
		CPPUNIT_ASSERT_EQUAL(std::string("server.listen: "), reloadError(services, next).substr(0, 15));
		CPPUNIT_ASSERT_EQUAL(std::string("tcp+tls://127.0.0.1:853"), services.upstreamTarget());
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), services.config().server.listen.front().port);
	}

	void testReloadKeepsRestartOnlyKeysAndNamesThem()
	{
		Started started;
		auto& [dir, services, next] = started;
		const auto running = next.cache.maxEntries;
		next.cache.maxEntries = running + 1;
		next.cache.minTtl = 60; // reloadable
		CPPUNIT_ASSERT(Steps({"cache.max_entries"}) == services.reload(next));
		CPPUNIT_ASSERT_EQUAL(running, services.config().cache.maxEntries);
		CPPUNIT_ASSERT_EQUAL(uint32_t(60), services.config().cache.minTtl);
	}

private:
	/// A started Services on a temporary database and a copy of its configuration for reload() to
	/// start from (the destructor of Services stops it).
	struct Started
	{
		StorageTestDir dir;
		app::Services services{config(dir, ANY_PORT, ""), mapped()};
		app::Config next;

		Started()
		{
			services.open();
			services.start();
			next = services.config();
		}
	};

	/// reload()'s StartError message; fails the test when reload() succeeds.
	static std::string reloadError(app::Services& services, const app::Config& next)
	{
		try
		{
			services.reload(next);
		}
		catch (const app::StartError& e)
		{
			return e.what();
		}
		CPPUNIT_FAIL("reload() succeeded");
		return {};
	}

	/// `listen` and `admin` as host:port, port 0 allowed (the loader wants a real port, so the
	/// addresses are set after loading); an empty `admin` turns the admin server off.
	static app::Config config(const StorageTestDir& dir, const Poco::Net::SocketAddress& listen,
							  const std::string& admin)
	{
		app::Config config =
			app::ConfigLoader::loadString("", {{"server.threads", "1"},
											   {"upstream.servers", "127.0.0.1:853#test.example"},
											   {"tls.ca_file", std::string(DNSPROXY_TEST_DATA) + "/certs/ca.pem"},
											   {"storage.path", dir.file("dnsproxy.db")}});
		config.server.listen.front().host = listen.host().toString();
		config.server.listen.front().port = listen.port();
		config.admin.listen = admin;
		return config;
	}

	static app::MappedSettings mapped()
	{
		app::MappedSettings settings;
		settings.pool.servers.push_back({Poco::Net::SocketAddress("127.0.0.1", 853), "test.example"});
		return settings;
	}

	/// start()'s StartError message; fails the test when start() succeeds.
	static std::string startError(app::Services& services)
	{
		try
		{
			services.start();
		}
		catch (const app::StartError& e)
		{
			return e.what();
		}
		CPPUNIT_FAIL("start() succeeded on an address in use");
		return {};
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ServicesTest, "app");
CPPUNIT_REGISTRY_ADD("app", "integration");

} // namespace dnsproxy::test
