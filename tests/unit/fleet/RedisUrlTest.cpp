// RedisUrlTest.cpp - parsing the [fleet] redis setting.
#include "fleet/RedisUrl.h"

#include <cppunit/extensions/HelperMacros.h>

using dnsproxy::fleet::RedisUrl;

class RedisUrlTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(RedisUrlTest);
	CPPUNIT_TEST(testParsesHostPortAndDb);
	CPPUNIT_TEST(testParsesBracketedIpv6);
	CPPUNIT_TEST(testRejectsMalformedUrls);
	CPPUNIT_TEST_SUITE_END();

public:
	void testParsesHostPortAndDb()
	{
		auto url = RedisUrl::parse("redis://redis:6379/2");
		CPPUNIT_ASSERT(url.has_value());
		CPPUNIT_ASSERT_EQUAL(std::string("redis"), url->host);
		CPPUNIT_ASSERT_EQUAL(uint16_t(6379), url->port);
		CPPUNIT_ASSERT_EQUAL(uint32_t(2), url->db);
		CPPUNIT_ASSERT_EQUAL(std::string("redis:6379"), url->hostAndPort());
		CPPUNIT_ASSERT_EQUAL(uint32_t(0), RedisUrl::parse("REDIS://127.0.0.1:7000")->db);
	}

	void testParsesBracketedIpv6()
	{
		auto url = RedisUrl::parse("redis://[::1]:6380");
		CPPUNIT_ASSERT(url.has_value());
		CPPUNIT_ASSERT_EQUAL(std::string("::1"), url->host);
		CPPUNIT_ASSERT_EQUAL(std::string("[::1]:6380"), url->hostAndPort());
	}

	void testRejectsMalformedUrls()
	{
		for (const char* bad :
			 {"", "redis://", "http://h:1", "redis://h", "redis://h:0", "redis://h:70000", "redis://:6379",
			  "redis://h:6379/x", "redis://[::1:6379", "redis://[h]:6379", "redis://::1:6379"})
			CPPUNIT_ASSERT_MESSAGE(bad, !RedisUrl::parse(bad));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(RedisUrlTest, "fleet");
