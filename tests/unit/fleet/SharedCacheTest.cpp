// SharedCacheTest.cpp - turning a value read from Redis into an answer with the remaining TTL.
#include "fleet/SharedCache.h"

#include "support/CachePackets.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy;
using namespace dnsproxy::test::cachepackets;
using fleet::SharedCache;

class SharedCacheTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SharedCacheTest);
	CPPUNIT_TEST(testHitAgesTtlsByTimeSpentInRedis);
	CPPUNIT_TEST(testFreshlyWrittenHitKeepsItsTtls);
	CPPUNIT_TEST(testNegativeAnswerAgesItsSoa);
	CPPUNIT_TEST(testLessThanOneSecondLeftIsAMiss);
	CPPUNIT_TEST(testKeyWithoutExpiryIsAMiss);
	CPPUNIT_TEST(testGarbageValueIsAMiss);
	CPPUNIT_TEST_SUITE_END();

public:
	void testHitAgesTtlsByTimeSpentInRedis()
	{
		cache::TtlPolicy policy{cache::CacheSettings{}};
		// Written with TTLs 300 and 600 (entry lifetime 300); 250.9 s left in Redis.
		auto answer = SharedCache::fromRedis(value(answerA("www.example", {300, 600}, 0)), 250900, policy);
		CPPUNIT_ASSERT(answer.has_value());
		CPPUNIT_ASSERT_EQUAL(uint32_t(250), ttls(*answer)[0]);
		CPPUNIT_ASSERT_EQUAL(uint32_t(550), ttls(*answer)[1]);
	}

	void testFreshlyWrittenHitKeepsItsTtls()
	{
		cache::TtlPolicy policy{cache::CacheSettings{}};
		auto answer = SharedCache::fromRedis(value(answerA("www.example", {300}, 0)), 300000, policy);
		CPPUNIT_ASSERT(answer.has_value());
		CPPUNIT_ASSERT_EQUAL(uint32_t(300), ttls(*answer)[0]);
	}

	void testNegativeAnswerAgesItsSoa()
	{
		cache::TtlPolicy policy{cache::CacheSettings{}};
		// NXDOMAIN, SOA TTL 3600, MINIMUM 900: lifetime 900 (RFC 2308 5); 100 s spent.
		auto answer = SharedCache::fromRedis(value(negative("nx.example", dns::Type::A, 3, 3600, 900)), 800000, policy);
		CPPUNIT_ASSERT(answer.has_value());
		CPPUNIT_ASSERT_EQUAL(uint32_t(800), ttls(*answer)[0]);
	}

	void testLessThanOneSecondLeftIsAMiss()
	{
		cache::TtlPolicy policy{cache::CacheSettings{}};
		CPPUNIT_ASSERT(!SharedCache::fromRedis(value(answerA("www.example", {300}, 0)), 999, policy));
		CPPUNIT_ASSERT(!SharedCache::fromRedis(value(answerA("www.example", {300}, 0)), -2, policy));
	}

	void testKeyWithoutExpiryIsAMiss()
	{
		cache::TtlPolicy policy{cache::CacheSettings{}};
		CPPUNIT_ASSERT(!SharedCache::fromRedis(value(answerA("www.example", {300}, 0)), -1, policy));
	}

	void testGarbageValueIsAMiss()
	{
		cache::TtlPolicy policy{cache::CacheSettings{}};
		CPPUNIT_ASSERT(!SharedCache::fromRedis("not a dns message", 100000, policy));
		CPPUNIT_ASSERT(!SharedCache::fromRedis(value(query("www.example", dns::Type::A)), 100000, policy));
		CPPUNIT_ASSERT(!SharedCache::fromRedis(value(rcodeOnly("www.example", dns::Type::A, 2)), 100000, policy));
	}

private:
	static std::string value(const std::vector<uint8_t>& wire)
	{
		return std::string(wire.begin(), wire.end());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SharedCacheTest, "fleet");
