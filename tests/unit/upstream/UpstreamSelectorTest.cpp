// UpstreamSelectorTest.cpp - server order per strategy, down marking, probe back-off, smoothed latency; fake clock.
#include "upstream/UpstreamSelector.h"

#include "support/FakeTime.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <vector>

using namespace dnsproxy;
using dnsproxy::test::T0;
using upstream::SelectionStrategy;
using upstream::UpstreamSelector;
using Clock = UpstreamSelector::Clock;
using namespace std::chrono_literals;

namespace
{

const std::vector<bool> ALL_CONNECTABLE(3, true);

UpstreamSelector make(SelectionStrategy strategy, size_t servers = 3)
{
	return UpstreamSelector(strategy, servers, 2000ms);
}

} // namespace

class UpstreamSelectorTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(UpstreamSelectorTest);
	CPPUNIT_TEST(testFailoverKeepsConfiguredOrder);
	CPPUNIT_TEST(testFailoverPutsDownServerLast);
	CPPUNIT_TEST(testUnconnectableServerGoesLast);
	CPPUNIT_TEST(testRoundRobinRotatesPerQuery);
	CPPUNIT_TEST(testFastestPrefersLowestSrttAndMeasuresUnsampledFirst);
	CPPUNIT_TEST(testFastestExploresOneQueryInSixteen);
	CPPUNIT_TEST(testTimeoutMakesServerSlowForFastest);
	CPPUNIT_TEST(testSrttIsSmoothed);
	CPPUNIT_TEST(testFailureAfterLaterAnswerDoesNotMarkDown);
	CPPUNIT_TEST(testProbeDueOnlyAfterBackoffAndOnce);
	CPPUNIT_TEST(testFailedProbesDoubleBackoffUpToLimit);
	CPPUNIT_TEST(testAnsweredProbeBringsServerUp);
	CPPUNIT_TEST(testAllDownProbesEveryFewSeconds);
	CPPUNIT_TEST(testOneServerUpKeepsLongBackoff);
	CPPUNIT_TEST(testResetBringsServerUpAtOnce);
	CPPUNIT_TEST_SUITE_END();

public:
	void testFailoverKeepsConfiguredOrder()
	{
		auto selector = make(SelectionStrategy::FAILOVER);
		for (int i = 0; i < 3; ++i)
			CPPUNIT_ASSERT((std::vector<size_t>{0, 1, 2}) == selector.order(ALL_CONNECTABLE));
	}

	void testFailoverPutsDownServerLast()
	{
		auto selector = make(SelectionStrategy::FAILOVER);
		auto change = selector.failed(0, true, T0, T0 + 2s);
		CPPUNIT_ASSERT(!selector.up(0));
		CPPUNIT_ASSERT(change.markedDownFor == UpstreamSelector::FIRST_DOWN_BACKOFF);
		CPPUNIT_ASSERT((std::vector<size_t>{1, 2, 0}) == selector.order(ALL_CONNECTABLE));
		// A second failure while down does not report the server down again.
		CPPUNIT_ASSERT_EQUAL(0L, static_cast<long>(selector.failed(0, false, T0 + 2s, T0 + 3s).markedDownFor.count()));
	}

	void testUnconnectableServerGoesLast()
	{
		auto selector = make(SelectionStrategy::FAILOVER);
		CPPUNIT_ASSERT((std::vector<size_t>{0, 2, 1}) == selector.order({true, false, true}));
		CPPUNIT_ASSERT(selector.up(1));
	}

	void testRoundRobinRotatesPerQuery()
	{
		auto selector = make(SelectionStrategy::ROUND_ROBIN);
		CPPUNIT_ASSERT((std::vector<size_t>{0, 1, 2}) == selector.order(ALL_CONNECTABLE));
		CPPUNIT_ASSERT((std::vector<size_t>{1, 2, 0}) == selector.order(ALL_CONNECTABLE));
		CPPUNIT_ASSERT((std::vector<size_t>{2, 0, 1}) == selector.order(ALL_CONNECTABLE));
		CPPUNIT_ASSERT((std::vector<size_t>{0, 1, 2}) == selector.order(ALL_CONNECTABLE));
	}

	void testFastestPrefersLowestSrttAndMeasuresUnsampledFirst()
	{
		auto selector = make(SelectionStrategy::FASTEST);
		selector.answered(0, T0, T0 + 30ms);
		selector.answered(1, T0, T0 + 10ms);
		// Server 2 has no sample yet: it is tried first so that it gets one.
		CPPUNIT_ASSERT((std::vector<size_t>{2, 1, 0}) == selector.order(ALL_CONNECTABLE));
		selector.answered(2, T0, T0 + 20ms);
		CPPUNIT_ASSERT((std::vector<size_t>{1, 2, 0}) == selector.order(ALL_CONNECTABLE));
	}

	void testFastestExploresOneQueryInSixteen()
	{
		auto selector = make(SelectionStrategy::FASTEST);
		selector.answered(0, T0, T0 + 10ms);
		selector.answered(1, T0, T0 + 20ms);
		selector.answered(2, T0, T0 + 30ms);
		size_t notFastestFirst = 0;
		for (uint64_t i = 0; i < 4 * UpstreamSelector::EXPLORE_EVERY; ++i)
		{
			auto order = selector.order(ALL_CONNECTABLE);
			if (order[0] != 0)
			{
				++notFastestFirst;
				CPPUNIT_ASSERT_EQUAL(UpstreamSelector::EXPLORE_EVERY - 1, i % UpstreamSelector::EXPLORE_EVERY);
			}
		}
		CPPUNIT_ASSERT_EQUAL(size_t(4), notFastestFirst);
	}

	void testTimeoutMakesServerSlowForFastest()
	{
		auto selector = make(SelectionStrategy::FASTEST, 2);
		selector.answered(0, T0, T0 + 10ms);
		selector.answered(1, T0, T0 + 50ms);
		selector.answered(0, T0 + 1s, T0 + 1s + 10ms); // keeps it up: the timeout below is a slow name
		selector.failed(0, true, T0, T0 + 2s);
		CPPUNIT_ASSERT(selector.up(0));
		CPPUNIT_ASSERT_EQUAL(2000000u, selector.srttMicros(0));
		CPPUNIT_ASSERT((std::vector<size_t>{1, 0}) == selector.order({true, true}));
	}

	void testSrttIsSmoothed()
	{
		auto selector = make(SelectionStrategy::FASTEST, 1);
		CPPUNIT_ASSERT_EQUAL(0u, selector.srttMicros(0));
		selector.answered(0, T0, T0 + 8ms);
		CPPUNIT_ASSERT_EQUAL(8000u, selector.srttMicros(0));
		selector.answered(0, T0, T0 + 16ms);
		CPPUNIT_ASSERT_EQUAL(9000u, selector.srttMicros(0)); // (7 * 8000 + 16000) / 8
	}

	void testFailureAfterLaterAnswerDoesNotMarkDown()
	{
		auto selector = make(SelectionStrategy::FAILOVER);
		selector.answered(0, T0 + 1s, T0 + 1s);
		// Sent before the answer above: the server answered something meanwhile, so it is alive.
		CPPUNIT_ASSERT_EQUAL(0L, static_cast<long>(selector.failed(0, true, T0, T0 + 2s).markedDownFor.count()));
		CPPUNIT_ASSERT(selector.up(0));
		// Sent after the last answer: nothing answered since, down.
		CPPUNIT_ASSERT(selector.failed(0, true, T0 + 2s, T0 + 4s).markedDownFor.count() > 0);
		CPPUNIT_ASSERT(!selector.up(0));
	}

	void testProbeDueOnlyAfterBackoffAndOnce()
	{
		auto selector = make(SelectionStrategy::FAILOVER);
		CPPUNIT_ASSERT(!selector.claimProbe(0, T0)); // up: nothing to probe
		selector.failed(0, false, T0, T0);
		CPPUNIT_ASSERT(!selector.claimProbe(0, T0 + UpstreamSelector::FIRST_DOWN_BACKOFF - 1ms));
		CPPUNIT_ASSERT(selector.claimProbe(0, T0 + UpstreamSelector::FIRST_DOWN_BACKOFF));
		CPPUNIT_ASSERT(!selector.claimProbe(0, T0 + 5s)); // one probe at a time
		CPPUNIT_ASSERT(!selector.up(0));
	}

	void testFailedProbesDoubleBackoffUpToLimit()
	{
		auto selector = make(SelectionStrategy::FAILOVER);
		auto now = T0;
		CPPUNIT_ASSERT(selector.failed(0, false, now, now).markedDownFor == 1000ms);
		std::vector<std::chrono::milliseconds> backoffs;
		for (int i = 0; i < 7; ++i)
		{
			now += UpstreamSelector::MAX_DOWN_BACKOFF;
			CPPUNIT_ASSERT(selector.claimProbe(0, now));
			auto change = selector.probeDone(0, false, now, now + 10ms);
			CPPUNIT_ASSERT(!change.cameUp);
			backoffs.push_back(change.markedDownFor);
			now += 10ms;
			CPPUNIT_ASSERT(!selector.claimProbe(0, now + change.markedDownFor - 1ms));
		}
		const std::vector<std::chrono::milliseconds> expected{2000ms,  4000ms,  8000ms, 16000ms,
															  30000ms, 30000ms, 30000ms};
		CPPUNIT_ASSERT(expected == backoffs);
	}

	void testAnsweredProbeBringsServerUp()
	{
		auto selector = make(SelectionStrategy::FAILOVER);
		selector.failed(0, false, T0, T0);
		CPPUNIT_ASSERT(selector.claimProbe(0, T0 + 1s));
		auto change = selector.probeDone(0, true, T0 + 1s, T0 + 1s + 5ms);
		CPPUNIT_ASSERT(change.cameUp);
		CPPUNIT_ASSERT(selector.up(0));
		CPPUNIT_ASSERT_EQUAL(0u, selector.srttMicros(0)); // a probe is not a latency sample
		CPPUNIT_ASSERT((std::vector<size_t>{0, 1, 2}) == selector.order(ALL_CONNECTABLE));
		// The back-off starts again from the first step.
		CPPUNIT_ASSERT(selector.failed(0, false, T0 + 2s, T0 + 2s).markedDownFor ==
					   UpstreamSelector::FIRST_DOWN_BACKOFF);
	}

	/// Marks every server of `selector` down and lets its probes fail until the back-off is 30 s.
	static Clock::time_point downForLong(UpstreamSelector& selector, Clock::time_point now)
	{
		for (size_t i = 0; i < selector.size(); ++i)
			selector.failed(i, false, now, now);
		for (int round = 0; round < 6; ++round)
		{
			now += UpstreamSelector::MAX_DOWN_BACKOFF;
			for (size_t i = 0; i < selector.size(); ++i)
			{
				CPPUNIT_ASSERT(selector.claimProbe(i, now));
				selector.probeDone(i, false, now, now);
			}
		}
		return now;
	}

	void testAllDownProbesEveryFewSeconds()
	{
		auto selector = make(SelectionStrategy::FAILOVER, 2);
		auto now = downForLong(selector, T0);
		CPPUNIT_ASSERT(selector.allDown());
		// The back-off says 30 s; with every server down, a probe is due 2 s after the last one.
		for (int i = 0; i < 5; ++i)
		{
			CPPUNIT_ASSERT(!selector.claimProbe(0, now + UpstreamSelector::ALL_DOWN_PROBE_INTERVAL - 1ms));
			now += UpstreamSelector::ALL_DOWN_PROBE_INTERVAL;
			CPPUNIT_ASSERT(selector.claimProbe(0, now));
			CPPUNIT_ASSERT(!selector.claimProbe(0, now + 10s)); // one probe at a time
			selector.probeDone(0, false, now, now);
		}
		CPPUNIT_ASSERT(selector.claimProbe(1, now));
		CPPUNIT_ASSERT(selector.probeDone(1, true, now, now + 1ms).cameUp);
		CPPUNIT_ASSERT(!selector.allDown());
	}

	void testOneServerUpKeepsLongBackoff()
	{
		auto selector = make(SelectionStrategy::FAILOVER, 2);
		auto now = downForLong(selector, T0);
		CPPUNIT_ASSERT(selector.claimProbe(1, now + 2s));
		selector.probeDone(1, true, now + 2s, now + 2s); // server 1 is back: server 0 is not needed
		CPPUNIT_ASSERT(!selector.claimProbe(0, now + 4s));
		CPPUNIT_ASSERT(selector.claimProbe(0, now + UpstreamSelector::MAX_DOWN_BACKOFF));
	}

	void testResetBringsServerUpAtOnce()
	{
		auto selector = make(SelectionStrategy::FAILOVER, 2);
		auto now = downForLong(selector, T0);
		CPPUNIT_ASSERT(selector.reset(0));
		CPPUNIT_ASSERT(selector.up(0));
		CPPUNIT_ASSERT(!selector.up(1));
		CPPUNIT_ASSERT((std::vector<size_t>{0, 1}) == selector.order({true, true}));
		CPPUNIT_ASSERT(!selector.reset(0)); // already up
		// Its back-off starts again from the first step.
		CPPUNIT_ASSERT(selector.failed(0, false, now, now).markedDownFor == UpstreamSelector::FIRST_DOWN_BACKOFF);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(UpstreamSelectorTest, "upstream");
