// PinChannelTest.cpp - what a pin event from Redis must look like before it is used.
#include "fleet/PinChannel.h"

#include <cppunit/extensions/HelperMacros.h>

using dnsproxy::fleet::PinChannel;

class PinChannelTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PinChannelTest);
	CPPUNIT_TEST(testAcceptsBase64Of32Bytes);
	CPPUNIT_TEST(testRejectsOtherDigests);
	CPPUNIT_TEST(testAcceptsLowerCaseHostNames);
	CPPUNIT_TEST(testRejectsOtherNames);
	CPPUNIT_TEST_SUITE_END();

public:
	void testAcceptsBase64Of32Bytes()
	{
		CPPUNIT_ASSERT(PinChannel::validDigest("OqgLMP/57VZl+df9ov4kwc62KXQeSRXzMrqMZ81eh18="));
	}

	void testRejectsOtherDigests()
	{
		for (const char* bad :
			 {"", "AAAA", "OqgLMP/57VZl+df9ov4kwc62KXQeSRXzMrqMZ81eh1==", // 31 bytes
			  "OqgLMP/57VZl+df9ov4kwc62KXQeSRXzMrqMZ81eh18",
			  "OqgLMP/57VZl+df9ov4kwc62KXQeSRXzMrqMZ81e!18=", "OqgLMP/57VZl+df9ov4kwc62KXQeSRXzMrqMZ81eh18=AAAA"})
			CPPUNIT_ASSERT_MESSAGE(bad, !PinChannel::validDigest(bad));
	}

	void testAcceptsLowerCaseHostNames()
	{
		CPPUNIT_ASSERT(PinChannel::validName("dot.example"));
		CPPUNIT_ASSERT(PinChannel::validName("cloudflare-dns.com"));
		CPPUNIT_ASSERT(PinChannel::validName("_x.a1"));
	}

	void testRejectsOtherNames()
	{
		for (const std::string& bad :
			 {std::string(), std::string("a..b"), std::string(".a"), std::string("A.example"), std::string("a b"),
			  std::string("a\nb"), std::string(64, 'a') + ".x", std::string(254, 'a')})
			CPPUNIT_ASSERT_MESSAGE(bad, !PinChannel::validName(bad));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PinChannelTest, "fleet");
