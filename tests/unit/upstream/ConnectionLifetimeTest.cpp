// ConnectionLifetimeTest.cpp - connect back-off, idle closing and the learned server idle limit; fake clock.
#include "upstream/ConnectionLifetime.h"

#include "support/FakeTime.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <vector>

using namespace dnsproxy;
using dnsproxy::test::T0;
using upstream::ConnectionLifetime;
using namespace std::chrono_literals;

class ConnectionLifetimeTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ConnectionLifetimeTest);
	CPPUNIT_TEST(testConnectBackoffDoublesUpToLimit);
	CPPUNIT_TEST(testOpenedEndsBackoff);
	CPPUNIT_TEST(testIdleTimeoutClosesUnusedConnection);
	CPPUNIT_TEST(testKeepaliveLimitStopsReuseBeforeIt);
	CPPUNIT_TEST(testSmallestLearnedLimitWins);
	CPPUNIT_TEST(testCloseAfterIdleTeachesLimit);
	CPPUNIT_TEST(testShortLimitUsesMinimumMargin);
	CPPUNIT_TEST_SUITE_END();

public:
	void testConnectBackoffDoublesUpToLimit()
	{
		ConnectionLifetime lifetime(30s, T0);
		CPPUNIT_ASSERT(!lifetime.backingOff(T0));
		std::vector<std::chrono::milliseconds> backoffs;
		auto now = T0;
		for (int i = 0; i < 6; ++i)
		{
			auto backoff = lifetime.connectFailed(now);
			backoffs.push_back(backoff);
			CPPUNIT_ASSERT(lifetime.backingOff(now + backoff - 1ms));
			CPPUNIT_ASSERT(!lifetime.backingOff(now + backoff));
			now += backoff;
		}
		const std::vector<std::chrono::milliseconds> expected{250ms, 500ms, 1000ms, 2000ms, 2000ms, 2000ms};
		CPPUNIT_ASSERT(expected == backoffs);
	}

	void testOpenedEndsBackoff()
	{
		ConnectionLifetime lifetime(30s, T0);
		lifetime.connectFailed(T0);
		lifetime.connectFailed(T0);
		lifetime.opened(T0 + 100ms);
		CPPUNIT_ASSERT(!lifetime.backingOff(T0 + 100ms));
		CPPUNIT_ASSERT(ConnectionLifetime::FIRST_CONNECT_BACKOFF == lifetime.connectFailed(T0 + 200ms));
	}

	void testIdleTimeoutClosesUnusedConnection()
	{
		ConnectionLifetime lifetime(30s, T0);
		lifetime.opened(T0);
		lifetime.used(T0 + 10s);
		CPPUNIT_ASSERT(T0 + 40s == lifetime.idleDeadline());
		CPPUNIT_ASSERT(!lifetime.idleExpired(T0 + 40s - 1ms));
		CPPUNIT_ASSERT(lifetime.idleExpired(T0 + 40s));
	}

	void testKeepaliveLimitStopsReuseBeforeIt()
	{
		ConnectionLifetime lifetime(30s, T0);
		lifetime.opened(T0);
		CPPUNIT_ASSERT(!lifetime.nearServerIdleLimit(T0 + 1h)); // nothing learned: no limit
		CPPUNIT_ASSERT(lifetime.learnIdleLimit(10000));
		lifetime.used(T0);
		lifetime.received(T0 + 1s);
		// Margin: a fifth of 10 s; counted from the last exchange (the receive at 1 s).
		CPPUNIT_ASSERT(!lifetime.nearServerIdleLimit(T0 + 9s - 1ms));
		CPPUNIT_ASSERT(lifetime.nearServerIdleLimit(T0 + 9s));
		CPPUNIT_ASSERT(lifetime.idleExpired(T0 + 9s)); // before our own 30 s
	}

	void testSmallestLearnedLimitWins()
	{
		ConnectionLifetime lifetime(30s, T0);
		CPPUNIT_ASSERT(lifetime.learnIdleLimit(10000));
		CPPUNIT_ASSERT(!lifetime.learnIdleLimit(20000));
		CPPUNIT_ASSERT(lifetime.learnIdleLimit(5000));
		CPPUNIT_ASSERT(!lifetime.learnIdleLimit(5000));
		CPPUNIT_ASSERT_EQUAL(5000u, lifetime.serverIdleMs());
	}

	void testCloseAfterIdleTeachesLimit()
	{
		ConnectionLifetime lifetime(30s, T0);
		lifetime.opened(T0);
		lifetime.used(T0 + 1s);
		lifetime.received(T0 + 1s + 20ms);
		CPPUNIT_ASSERT(!lifetime.learnFromClose(T0 + 1s + 20ms + 199ms)); // too soon to be an idle close
		CPPUNIT_ASSERT_EQUAL(0u, lifetime.serverIdleMs());
		CPPUNIT_ASSERT(lifetime.learnFromClose(T0 + 1s + 20ms + 3s));
		CPPUNIT_ASSERT_EQUAL(3000u, lifetime.serverIdleMs());
		// The limit is kept across reconnects: it belongs to the server.
		lifetime.opened(T0 + 10s);
		CPPUNIT_ASSERT_EQUAL(3000u, lifetime.serverIdleMs());
	}

	void testShortLimitUsesMinimumMargin()
	{
		ConnectionLifetime lifetime(30s, T0);
		lifetime.opened(T0);
		lifetime.learnIdleLimit(500); // a fifth would be 100 ms: the minimum margin of 200 ms applies
		CPPUNIT_ASSERT(!lifetime.nearServerIdleLimit(T0 + 300ms - 1ms));
		CPPUNIT_ASSERT(lifetime.nearServerIdleLimit(T0 + 300ms));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ConnectionLifetimeTest, "upstream");
