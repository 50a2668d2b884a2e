// KeyLayoutTest.cpp - the Redis key names and pin channel messages of the fleet (SPEC 4b).
#include "fleet/KeyLayout.h"

#include "support/CachePackets.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy;
using fleet::KeyLayout;
using fleet::PinEvent;

class KeyLayoutTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(KeyLayoutTest);
	CPPUNIT_TEST(testCacheKeyIsPrefixPlusHexOfBinaryKey);
	CPPUNIT_TEST(testCacheKeyIgnoresNameCaseLikeTheLocalCache);
	CPPUNIT_TEST(testPinsKeyAndChannel);
	CPPUNIT_TEST(testPinsPatternEscapesGlobCharactersOfPrefix);
	CPPUNIT_TEST(testNameOfPinsKeyRejectsOtherKeys);
	CPPUNIT_TEST(testPinEventsRoundTrip);
	CPPUNIT_TEST(testDecodeRejectsMalformedMessages);
	CPPUNIT_TEST_SUITE_END();

public:
	void testCacheKeyIsPrefixPlusHexOfBinaryKey()
	{
		KeyLayout keys("dnsproxy:");
		// www.example. A IN, no DO/CD: 3www7example0 | 0001 | 0001 | 00
		const std::string binary = test::cachepackets::keyFor("www.example", dns::Type::A);
		CPPUNIT_ASSERT_EQUAL(std::string("dnsproxy:cache:03777777076578616d706c65000001000100"), keys.cacheKey(binary));
	}

	void testCacheKeyIgnoresNameCaseLikeTheLocalCache()
	{
		KeyLayout keys("p:");
		CPPUNIT_ASSERT_EQUAL(keys.cacheKey(test::cachepackets::keyFor("WWW.Example", dns::Type::A)),
							 keys.cacheKey(test::cachepackets::keyFor("www.example", dns::Type::A)));
		CPPUNIT_ASSERT(keys.cacheKey(test::cachepackets::keyFor("www.example", dns::Type::A, true)) !=
					   keys.cacheKey(test::cachepackets::keyFor("www.example", dns::Type::A)));
	}

	void testPinsKeyAndChannel()
	{
		KeyLayout keys("dnsproxy:");
		CPPUNIT_ASSERT_EQUAL(std::string("dnsproxy:pins:dns.example"), keys.pinsKey("dns.example"));
		CPPUNIT_ASSERT_EQUAL(std::string("dnsproxy:pins"), keys.pinsChannel());
		CPPUNIT_ASSERT_EQUAL(std::string("dnsproxy:pins:*"), keys.pinsPattern());
	}

	void testPinsPatternEscapesGlobCharactersOfPrefix()
	{
		KeyLayout keys("a*b?[c]:");
		CPPUNIT_ASSERT_EQUAL(std::string("a\\*b\\?\\[c\\]:pins:*"), keys.pinsPattern());
	}

	void testNameOfPinsKeyRejectsOtherKeys()
	{
		KeyLayout keys("dnsproxy:");
		CPPUNIT_ASSERT_EQUAL(std::string("dns.example"), keys.nameOfPinsKey("dnsproxy:pins:dns.example").value());
		CPPUNIT_ASSERT(!keys.nameOfPinsKey("dnsproxy:pins:"));
		CPPUNIT_ASSERT(!keys.nameOfPinsKey("other:pins:dns.example"));
		CPPUNIT_ASSERT(!keys.nameOfPinsKey("dnsproxy:cache:00"));
	}

	void testPinEventsRoundTrip()
	{
		const std::string digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
		for (auto kind : {PinEvent::Kind::LEARNED, PinEvent::Kind::APPROVED})
		{
			PinEvent event{kind, "dns.example", digest, "0123abcd"};
			auto back = KeyLayout::decode(KeyLayout::encode(event));
			CPPUNIT_ASSERT(back.has_value());
			CPPUNIT_ASSERT(back->kind == kind);
			CPPUNIT_ASSERT_EQUAL(event.name, back->name);
			CPPUNIT_ASSERT_EQUAL(digest, back->sha256);
			CPPUNIT_ASSERT_EQUAL(event.origin, back->origin);
		}
		PinEvent forget{PinEvent::Kind::FORGOTTEN, "dns.example", "", "0123abcd"};
		CPPUNIT_ASSERT_EQUAL(std::string("0123abcd forgotten dns.example"), KeyLayout::encode(forget));
		auto back = KeyLayout::decode(KeyLayout::encode(forget));
		CPPUNIT_ASSERT(back && back->kind == PinEvent::Kind::FORGOTTEN && back->sha256.empty());
	}

	void testDecodeRejectsMalformedMessages()
	{
		CPPUNIT_ASSERT(!KeyLayout::decode(""));
		CPPUNIT_ASSERT(!KeyLayout::decode("origin approved"));
		CPPUNIT_ASSERT(!KeyLayout::decode("origin approved dns.example"));
		CPPUNIT_ASSERT(!KeyLayout::decode("origin revoked dns.example abc="));
		CPPUNIT_ASSERT(!KeyLayout::decode("origin forgotten dns.example abc="));
		CPPUNIT_ASSERT(!KeyLayout::decode("origin learned dns.example abc= extra"));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(KeyLayoutTest, "fleet");
CPPUNIT_REGISTRY_ADD("fleet", "unit");
