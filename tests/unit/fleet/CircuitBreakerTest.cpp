// CircuitBreakerTest.cpp - the fleet's Redis breaker on a fake clock.
#include "fleet/CircuitBreaker.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy;
using fleet::BreakerSettings;
using fleet::CircuitBreaker;
using namespace std::chrono_literals;

class CircuitBreakerTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CircuitBreakerTest);
	CPPUNIT_TEST(testStartsOpenWithProbeDueAtOnce);
	CPPUNIT_TEST(testSuccessfulProbeClosesAndBumpsGeneration);
	CPPUNIT_TEST(testFirstFailureOpensOnceAndCounts);
	CPPUNIT_TEST(testThresholdCountsConsecutiveFailuresOnly);
	CPPUNIT_TEST(testProbeBacksOffUpToMaximum);
	CPPUNIT_TEST(testBackoffRestartsAfterRecovery);
	CPPUNIT_TEST(testTripOpensDespiteThresholdWithProbeDue);
	CPPUNIT_TEST(testTripWhileOpenBringsProbeForward);
	CPPUNIT_TEST_SUITE_END();

public:
	void testTripOpensDespiteThresholdWithProbeDue()
	{
		BreakerSettings lenient = settings();
		lenient.failureThreshold = 5;
		CircuitBreaker breaker(lenient, clock());
		breaker.probeSucceeded();
		const uint64_t generation = breaker.generation();
		breaker.trip(); // +switch-master: the master moved
		CPPUNIT_ASSERT(!breaker.allow());
		CPPUNIT_ASSERT(breaker.probeDue());
		CPPUNIT_ASSERT_EQUAL(generation + 1, breaker.generation());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), breaker.opens());
	}

	void testTripWhileOpenBringsProbeForward()
	{
		CircuitBreaker breaker(settings(), clock());
		breaker.probeSucceeded();
		breaker.recordFailure();
		breaker.probeFailed();
		breaker.probeFailed(); // back-off grown
		CPPUNIT_ASSERT(!breaker.probeDue());
		const uint64_t generation = breaker.generation();
		breaker.trip();
		CPPUNIT_ASSERT(breaker.probeDue());
		CPPUNIT_ASSERT_EQUAL(generation, breaker.generation()); // no new outage
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), breaker.opens());
	}

	void setUp() override
	{
		_now = std::chrono::steady_clock::time_point(std::chrono::hours(1));
	}

	void testStartsOpenWithProbeDueAtOnce()
	{
		CircuitBreaker breaker(settings(), clock());
		CPPUNIT_ASSERT(!breaker.allow());
		CPPUNIT_ASSERT(breaker.probeDue());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), breaker.opens());
	}

	void testSuccessfulProbeClosesAndBumpsGeneration()
	{
		CircuitBreaker breaker(settings(), clock());
		const uint64_t before = breaker.generation();
		CPPUNIT_ASSERT(breaker.probeSucceeded());
		CPPUNIT_ASSERT(breaker.allow());
		CPPUNIT_ASSERT(!breaker.probeDue());
		CPPUNIT_ASSERT_EQUAL(before + 1, breaker.generation());
		CPPUNIT_ASSERT(!breaker.probeSucceeded()); // already closed: no change
		CPPUNIT_ASSERT_EQUAL(before + 1, breaker.generation());
	}

	void testFirstFailureOpensOnceAndCounts()
	{
		CircuitBreaker breaker(settings(), clock());
		breaker.probeSucceeded();
		const uint64_t generation = breaker.generation();
		CPPUNIT_ASSERT(breaker.recordFailure());
		CPPUNIT_ASSERT(!breaker.allow());
		CPPUNIT_ASSERT(!breaker.recordFailure()); // the other threads' failures of the same outage
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), breaker.opens());
		CPPUNIT_ASSERT_EQUAL(generation + 1, breaker.generation());
		CPPUNIT_ASSERT(!breaker.probeDue());
		_now += 199ms;
		CPPUNIT_ASSERT(!breaker.probeDue());
		_now += 1ms;
		CPPUNIT_ASSERT(breaker.probeDue());
	}

	void testThresholdCountsConsecutiveFailuresOnly()
	{
		BreakerSettings s = settings();
		s.failureThreshold = 3;
		CircuitBreaker breaker(s, clock());
		breaker.probeSucceeded();
		CPPUNIT_ASSERT(!breaker.recordFailure());
		CPPUNIT_ASSERT(!breaker.recordFailure());
		breaker.recordSuccess();
		CPPUNIT_ASSERT(!breaker.recordFailure());
		CPPUNIT_ASSERT(!breaker.recordFailure());
		CPPUNIT_ASSERT(breaker.allow());
		CPPUNIT_ASSERT(breaker.recordFailure());
		CPPUNIT_ASSERT(!breaker.allow());
	}

	void testProbeBacksOffUpToMaximum()
	{
		CircuitBreaker breaker(settings(), clock());
		breaker.probeSucceeded();
		breaker.recordFailure();
		// Probes at +200, then 200, 400, 800, 1600, 2000, 2000 ms apart.
		std::vector<int64_t> gaps;
		for (int i = 0; i < 7; ++i)
		{
			int64_t waited = 0;
			while (!breaker.probeDue())
			{
				_now += 1ms;
				++waited;
			}
			gaps.push_back(waited);
			breaker.probeFailed();
		}
		const std::vector<int64_t> expected{200, 200, 400, 800, 1600, 2000, 2000};
		CPPUNIT_ASSERT(expected == gaps);
		CPPUNIT_ASSERT_EQUAL(int64_t(2000), int64_t(breaker.untilProbe().count()));
	}

	void testBackoffRestartsAfterRecovery()
	{
		CircuitBreaker breaker(settings(), clock());
		breaker.probeSucceeded();
		breaker.recordFailure();
		for (int i = 0; i < 5; ++i)
		{
			_now += 5s;
			breaker.probeFailed();
		}
		_now += 5s;
		CPPUNIT_ASSERT(breaker.probeSucceeded());
		CPPUNIT_ASSERT(breaker.recordFailure());
		CPPUNIT_ASSERT_EQUAL(int64_t(200), int64_t(breaker.untilProbe().count()));
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), breaker.opens());
	}

private:
	BreakerSettings settings() const
	{
		BreakerSettings s;
		s.failureThreshold = 1;
		s.probeMinMs = 200;
		s.probeMaxMs = 2000;
		return s;
	}

	CircuitBreaker::Clock clock()
	{
		return [this] { return _now; };
	}

	std::chrono::steady_clock::time_point _now;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CircuitBreakerTest, "fleet");
