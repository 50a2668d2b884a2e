// CacheKeyTest.cpp - building and splitting cache keys.
#include "cache/CacheKey.h"

#include "dns/Constants.h"
#include "support/CachePackets.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy;
using namespace dnsproxy::test::cachepackets;
using cache::CacheKey;

class CacheKeyTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CacheKeyTest);
	CPPUNIT_TEST(testKeyIsCaseInsensitive);
	CPPUNIT_TEST(testKeySeparatesDoAndCdBits);
	CPPUNIT_TEST(testKeyWithoutEdnsHasNoDo);
	CPPUNIT_TEST(testParseSplitsKey);
	CPPUNIT_TEST(testParseRejectsMalformedKey);
	CPPUNIT_TEST_SUITE_END();

public:
	void testKeyIsCaseInsensitive()
	{
		CPPUNIT_ASSERT(keyFor("WwW.ExAmPlE.CoM", dns::Type::A) == keyFor("www.example.com", dns::Type::A));
	}

	void testKeySeparatesDoAndCdBits()
	{
		const std::string plain = keyFor("example.com", dns::Type::A);
		CPPUNIT_ASSERT(plain != keyFor("example.com", dns::Type::A, true, false));
		CPPUNIT_ASSERT(plain != keyFor("example.com", dns::Type::A, false, true));
		CPPUNIT_ASSERT(keyFor("example.com", dns::Type::A, true, false) !=
					   keyFor("example.com", dns::Type::A, false, true));
		CPPUNIT_ASSERT(plain != keyFor("example.com", dns::Type::AAAA));
	}

	void testKeyWithoutEdnsHasNoDo()
	{
		CPPUNIT_ASSERT(keyOf(query("example.com", dns::Type::A, false, false, 1, false)) ==
					   keyFor("example.com", dns::Type::A));
	}

	void testParseSplitsKey()
	{
		auto parts = CacheKey::parse(keyFor("Example.COM", dns::Type::MX, true, true));
		CPPUNIT_ASSERT(parts);
		const std::string wire("\x07"
							   "example"
							   "\x03"
							   "com"
							   "\x00",
							   13);
		CPPUNIT_ASSERT(wire == parts->nameWire);
		CPPUNIT_ASSERT_EQUAL(dns::Type::MX, parts->qtype);
		CPPUNIT_ASSERT_EQUAL(dns::Class::IN, parts->qclass);
		CPPUNIT_ASSERT(parts->dnssecOk);
		CPPUNIT_ASSERT(parts->checkingDisabled);
	}

	void testParseRejectsMalformedKey()
	{
		CPPUNIT_ASSERT(!CacheKey::parse(""));
		CPPUNIT_ASSERT(!CacheKey::parse("garbage"));
		std::string key = keyFor("example.com", dns::Type::A);
		CPPUNIT_ASSERT(!CacheKey::parse(key.substr(1)));
		key.back() = static_cast<char>(0x80);
		CPPUNIT_ASSERT(!CacheKey::parse(key));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CacheKeyTest, "cache");
