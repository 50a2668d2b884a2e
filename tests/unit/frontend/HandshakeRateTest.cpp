// HandshakeRateTest.cpp - new TLS handshakes per source: the token buckets and their bounded table.
#include "frontend/HandshakeRate.h"

#include <netinet/in.h>

#include <cppunit/extensions/HelperMacros.h>

#include <cstring>

using namespace dnsproxy::frontend;

namespace
{
sockaddr_in v4(uint32_t host)
{
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(host);
	return a;
}

sockaddr_in6 v6(uint8_t sixtyFour, uint8_t last)
{
	sockaddr_in6 a{};
	a.sin6_family = AF_INET6;
	a.sin6_addr.s6_addr[0] = 0x20;
	a.sin6_addr.s6_addr[7] = sixtyFour;
	a.sin6_addr.s6_addr[15] = last;
	return a;
}

const sockaddr* sa(const void* a)
{
	return static_cast<const sockaddr*>(a);
}
} // namespace

class HandshakeRateTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HandshakeRateTest);
	CPPUNIT_TEST(testBurstThenRefill);
	CPPUNIT_TEST(testSourcesAreIndependent);
	CPPUNIT_TEST(testIpv6CountsPerSlash64);
	CPPUNIT_TEST(testZeroAllowsEverything);
	CPPUNIT_TEST(testTableStaysBounded);
	CPPUNIT_TEST_SUITE_END();

public:
	void testBurstThenRefill()
	{
		HandshakeRate rate(10);
		const auto t0 = HandshakeRate::Clock::now();
		const auto a = v4(0x7f000001);
		for (int i = 0; i < 10; ++i)
			CPPUNIT_ASSERT(rate.allow(sa(&a), t0));
		CPPUNIT_ASSERT(!rate.allow(sa(&a), t0)); // the burst is spent
		CPPUNIT_ASSERT(!rate.allow(sa(&a), t0 + std::chrono::milliseconds(50)));
		CPPUNIT_ASSERT(rate.allow(sa(&a), t0 + std::chrono::milliseconds(160))); // 1.6 tokens back
	}

	void testSourcesAreIndependent()
	{
		HandshakeRate rate(2);
		const auto t0 = HandshakeRate::Clock::now();
		const auto a = v4(0x0a000001);
		const auto b = v4(0x0a000002);
		CPPUNIT_ASSERT(rate.allow(sa(&a), t0) && rate.allow(sa(&a), t0));
		CPPUNIT_ASSERT(!rate.allow(sa(&a), t0));
		CPPUNIT_ASSERT(rate.allow(sa(&b), t0)); // control: another source is not affected
	}

	void testIpv6CountsPerSlash64()
	{
		HandshakeRate rate(1);
		const auto t0 = HandshakeRate::Clock::now();
		const auto a = v6(1, 1);
		const auto sameNet = v6(1, 99);
		const auto otherNet = v6(2, 1);
		CPPUNIT_ASSERT(rate.allow(sa(&a), t0));
		CPPUNIT_ASSERT(!rate.allow(sa(&sameNet), t0)); // another address of the same /64
		CPPUNIT_ASSERT(rate.allow(sa(&otherNet), t0));
	}

	void testZeroAllowsEverything()
	{
		HandshakeRate rate(0);
		const auto t0 = HandshakeRate::Clock::now();
		const auto a = v4(1);
		for (int i = 0; i < 1000; ++i)
			CPPUNIT_ASSERT(rate.allow(sa(&a), t0));
		CPPUNIT_ASSERT_EQUAL(size_t(0), rate.sources());
	}

	void testTableStaysBounded()
	{
		// A flood from many sources, each with a bucket in use: the table never passes its bound.
		HandshakeRate rate(5, 1000);
		const auto t0 = HandshakeRate::Clock::now();
		for (uint32_t i = 0; i < 20000; ++i)
		{
			const auto a = v4(0x0b000000 + i);
			rate.allow(sa(&a), t0);
			CPPUNIT_ASSERT(rate.sources() <= 1000);
		}
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HandshakeRateTest, "frontend");
