// ConnectionLifetimeTest.cpp - connect back-off, idle closing and the learned server idle limit; fake clock.
#include "upstream/ConnectionLifetime.h"

#include "support/FakeTime.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <vector>

using namespace dnsproxy;
using dnsproxy::test::T0;
using upstream::ConnectionLifetime;
using Clock = ConnectionLifetime::Clock;
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
	CPPUNIT_TEST(testAnswerLimitLearnedFromTwoEqualCloses);
	CPPUNIT_TEST(testAnswerLimitNotLearnedFromIdleOrUnequalCloses);
	CPPUNIT_TEST(testAnswerLimitBoundsQueriesPerStream);
	CPPUNIT_TEST(testResetEndsBackoff);
	CPPUNIT_TEST(testLastResortConnectsDuringBackoff);
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

	/// One stream: opened at `now`, `sent` queries written, `answers` answered, then closed at `closeAt`
	/// with `inflight` left; returns what learnAnswerLimitFromClose said.
	static bool stream(ConnectionLifetime& lifetime, Clock::time_point now, size_t sent, uint32_t answers,
					   Clock::time_point closeAt, size_t inflight)
	{
		lifetime.opened(now);
		lifetime.used(now, sent);
		for (uint32_t i = 0; i < answers; ++i)
			lifetime.answered();
		lifetime.received(now + 5ms);
		return lifetime.learnAnswerLimitFromClose(closeAt, inflight);
	}

	void testAnswerLimitLearnedFromTwoEqualCloses()
	{
		ConnectionLifetime lifetime(30s, T0);
		CPPUNIT_ASSERT(!stream(lifetime, T0, 10, 5, T0 + 10ms, 5)); // once could be a restart
		CPPUNIT_ASSERT_EQUAL(0u, lifetime.answerLimit());
		CPPUNIT_ASSERT(stream(lifetime, T0 + 1s, 10, 5, T0 + 1s + 10ms, 5));
		CPPUNIT_ASSERT_EQUAL(5u, lifetime.answerLimit());
		// Sequential queries: closed right after the 5th answer, nothing in flight, not idle.
		ConnectionLifetime sequential(30s, T0);
		stream(sequential, T0, 5, 5, T0 + 6ms, 0);
		CPPUNIT_ASSERT(stream(sequential, T0 + 1s, 5, 5, T0 + 1s + 6ms, 0));
		CPPUNIT_ASSERT_EQUAL(5u, sequential.answerLimit());
		// A later, lower limit replaces it; a higher one does not.
		stream(sequential, T0 + 2s, 3, 3, T0 + 2s + 6ms, 0);
		CPPUNIT_ASSERT(stream(sequential, T0 + 3s, 3, 3, T0 + 3s + 6ms, 0));
		CPPUNIT_ASSERT_EQUAL(3u, sequential.answerLimit());
	}

	void testAnswerLimitNotLearnedFromIdleOrUnequalCloses()
	{
		ConnectionLifetime lifetime(30s, T0);
		// Closed after being idle: the idle limit's business.
		stream(lifetime, T0, 5, 5, T0 + 5s, 0);
		CPPUNIT_ASSERT(!stream(lifetime, T0 + 10s, 5, 5, T0 + 15s, 0));
		// Different counts: no habit.
		stream(lifetime, T0 + 20s, 10, 4, T0 + 20s + 10ms, 6);
		CPPUNIT_ASSERT(!stream(lifetime, T0 + 21s, 10, 7, T0 + 21s + 10ms, 3));
		// Nothing answered: a broken stream.
		stream(lifetime, T0 + 22s, 10, 0, T0 + 22s + 10ms, 10);
		CPPUNIT_ASSERT(!stream(lifetime, T0 + 23s, 10, 0, T0 + 23s + 10ms, 10));
		CPPUNIT_ASSERT_EQUAL(0u, lifetime.answerLimit());
		CPPUNIT_ASSERT_EQUAL(SIZE_MAX, lifetime.sendBudget());
	}

	void testAnswerLimitBoundsQueriesPerStream()
	{
		ConnectionLifetime lifetime(30s, T0);
		stream(lifetime, T0, 8, 5, T0 + 10ms, 3);
		stream(lifetime, T0 + 1s, 8, 5, T0 + 1s + 10ms, 3);
		lifetime.opened(T0 + 2s);
		CPPUNIT_ASSERT_EQUAL(size_t(5), lifetime.sendBudget());
		lifetime.used(T0 + 2s, 4);
		CPPUNIT_ASSERT_EQUAL(size_t(1), lifetime.sendBudget());
		CPPUNIT_ASSERT(!lifetime.streamExhausted());
		lifetime.used(T0 + 2s);
		CPPUNIT_ASSERT(lifetime.streamExhausted());
		lifetime.opened(T0 + 3s); // the next stream starts with the whole budget
		CPPUNIT_ASSERT_EQUAL(size_t(5), lifetime.sendBudget());
	}

	void testLastResortConnectsDuringBackoff()
	{
		ConnectionLifetime lifetime(30s, T0);
		for (int i = 0; i < 5; ++i)
			lifetime.connectFailed(T0);
		CPPUNIT_ASSERT(!lifetime.mayConnect(T0 + 1s, false)); // other servers are usable: wait 2 s
		CPPUNIT_ASSERT(lifetime.mayConnect(T0 + 2s, false));
		CPPUNIT_ASSERT(!lifetime.mayConnect(T0 + 249ms, true)); // the last resort: every 250 ms
		CPPUNIT_ASSERT(lifetime.mayConnect(T0 + 250ms, true));
		lifetime.connectFailed(T0 + 250ms);
		CPPUNIT_ASSERT(!lifetime.mayConnect(T0 + 400ms, true));
		CPPUNIT_ASSERT(lifetime.mayConnect(T0 + 500ms, true));
	}

	void testResetEndsBackoff()
	{
		ConnectionLifetime lifetime(30s, T0);
		for (int i = 0; i < 5; ++i)
			lifetime.connectFailed(T0);
		CPPUNIT_ASSERT(lifetime.backingOff(T0 + 1s));
		lifetime.reset();
		CPPUNIT_ASSERT(!lifetime.backingOff(T0));
		CPPUNIT_ASSERT(ConnectionLifetime::FIRST_CONNECT_BACKOFF == lifetime.connectFailed(T0));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ConnectionLifetimeTest, "upstream");
