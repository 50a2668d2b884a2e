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
	CPPUNIT_TEST(testParsesPasswordAndAclUser);
	CPPUNIT_TEST(testDecodesPercentEscapes);
	CPPUNIT_TEST(testParsesTlsScheme);
	CPPUNIT_TEST(testParsesSentinels);
	CPPUNIT_TEST(testRejectsMalformedCredentialsAndSentinels);
	CPPUNIT_TEST(testDescribeNeverShowsPassword);
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

	void testParsesPasswordAndAclUser()
	{
		auto password = RedisUrl::parse("redis://:pw@redis:6379/1");
		CPPUNIT_ASSERT(password.has_value());
		CPPUNIT_ASSERT_EQUAL(std::string(""), password->user);
		CPPUNIT_ASSERT_EQUAL(std::string("pw"), password->password);
		CPPUNIT_ASSERT_EQUAL(std::string("redis"), password->host);
		CPPUNIT_ASSERT_EQUAL(uint32_t(1), password->db);
		auto acl = RedisUrl::parse("redis://fleet:pw@10.0.0.5:6380");
		CPPUNIT_ASSERT(acl.has_value());
		CPPUNIT_ASSERT_EQUAL(std::string("fleet"), acl->user);
		CPPUNIT_ASSERT_EQUAL(std::string("pw"), acl->password);
		CPPUNIT_ASSERT(RedisUrl::Scheme::PLAIN == acl->scheme);
	}

	void testDecodesPercentEscapes()
	{
		auto url = RedisUrl::parse("redis://u%40x:p%3Aw%2F%25@h:1");
		CPPUNIT_ASSERT(url.has_value());
		CPPUNIT_ASSERT_EQUAL(std::string("u@x"), url->user);
		CPPUNIT_ASSERT_EQUAL(std::string("p:w/%"), url->password);
	}

	void testParsesTlsScheme()
	{
		auto url = RedisUrl::parse("rediss://:pw@[::1]:6380/3");
		CPPUNIT_ASSERT(url.has_value());
		CPPUNIT_ASSERT(RedisUrl::Scheme::TLS == url->scheme);
		CPPUNIT_ASSERT_EQUAL(std::string("::1"), url->host);
		CPPUNIT_ASSERT_EQUAL(uint32_t(3), url->db);
	}

	void testParsesSentinels()
	{
		auto url = RedisUrl::parse("redis+sentinel://fleet:pw@s1:26379,127.0.0.1:26380,[::1]:26381/mymaster/2");
		CPPUNIT_ASSERT(url.has_value());
		CPPUNIT_ASSERT(RedisUrl::Scheme::SENTINEL == url->scheme);
		CPPUNIT_ASSERT_EQUAL(size_t(3), url->sentinels.size());
		CPPUNIT_ASSERT_EQUAL(std::string("s1:26379"), url->sentinels[0].hostAndPort());
		CPPUNIT_ASSERT_EQUAL(std::string("[::1]:26381"), url->sentinels[2].hostAndPort());
		CPPUNIT_ASSERT_EQUAL(std::string("mymaster"), url->master);
		CPPUNIT_ASSERT_EQUAL(uint32_t(2), url->db);
		CPPUNIT_ASSERT_EQUAL(std::string("fleet"), url->user);
		auto plain = RedisUrl::parse("redis+sentinel://127.0.0.1:26379/mymaster");
		CPPUNIT_ASSERT(plain.has_value());
		CPPUNIT_ASSERT_EQUAL(uint32_t(0), plain->db);
		CPPUNIT_ASSERT(plain->password.empty());
	}

	void testRejectsMalformedCredentialsAndSentinels()
	{
		for (const char* bad :
			 {"redis://user@h:1", "redis://:@h:1", "redis://:p%zz@h:1", "rediss://h", "redis+sentinel://s:26379",
			  "redis+sentinel://s:26379/", "redis+sentinel://s:26379,/m", "redis+sentinel://s:26379/m a",
			  "redis+sentinel://s:26379/m/x", "redis+sentinel://s/m", "sentinel://s:26379/m"})
			CPPUNIT_ASSERT_MESSAGE(bad, !RedisUrl::parse(bad));
	}

	void testDescribeNeverShowsPassword()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("tls h:1"), RedisUrl::parse("rediss://u:hunter2@h:1")->describe());
		CPPUNIT_ASSERT_EQUAL(std::string("master m via sentinel a:1,b:2"),
							 RedisUrl::parse("redis+sentinel://:hunter2@a:1,b:2/m")->describe());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(RedisUrlTest, "fleet");
