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

private:
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
