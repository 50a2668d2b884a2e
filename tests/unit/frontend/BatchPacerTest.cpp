// BatchPacerTest.cpp - when the UDP listener waits between batches, and when it must not.
#include "frontend/BatchPacer.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy;
using frontend::BatchPacer;
using std::chrono::microseconds;

class BatchPacerTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(BatchPacerTest);
	CPPUNIT_TEST(testOffNeverWaits);
	CPPUNIT_TEST(testLoneQueriesNeverWait);
	CPPUNIT_TEST(testDenseStreamWaits);
	CPPUNIT_TEST(testBacklogNeverWaits);
	CPPUNIT_TEST(testThinWindowEndsWaiting);
	CPPUNIT_TEST_SUITE_END();

public:
	void testOffNeverWaits()
	{
		BatchPacer pacer(microseconds(0));
		CPPUNIT_ASSERT(!pacer.afterReceive(10, false, at(0)));
		CPPUNIT_ASSERT(!pacer.afterReceive(10, false, at(1)));
	}

	void testLoneQueriesNeverWait()
	{
		// One query every millisecond (1k QPS): each is answered at once.
		BatchPacer pacer(microseconds(200));
		for (int i = 0; i < 10; ++i)
			CPPUNIT_ASSERT(!pacer.afterReceive(1, false, at(i * 1000)));
	}

	void testDenseStreamWaits()
	{
		BatchPacer pacer(microseconds(200));
		CPPUNIT_ASSERT(!pacer.afterReceive(1, false, at(0)));
		CPPUNIT_ASSERT(pacer.afterReceive(1, false, at(25)));  // 25 us apart: 40k QPS
		CPPUNIT_ASSERT(pacer.afterReceive(8, false, at(250))); // the window collected 8
		BatchPacer other(microseconds(200));
		CPPUNIT_ASSERT(other.afterReceive(3, false, at(0))); // several queued at once
	}

	void testBacklogNeverWaits()
	{
		BatchPacer pacer(microseconds(200));
		CPPUNIT_ASSERT(!pacer.afterReceive(32, true, at(0))); // more are queued: take them now
		CPPUNIT_ASSERT(pacer.afterReceive(5, false, at(10)));
	}

	void testThinWindowEndsWaiting()
	{
		BatchPacer pacer(microseconds(200));
		CPPUNIT_ASSERT(pacer.afterReceive(4, false, at(0)));
		CPPUNIT_ASSERT(!pacer.afterReceive(1, false, at(220))); // one query in a whole window
		CPPUNIT_ASSERT(!pacer.afterReceive(1, false, at(900)));
	}

private:
	static BatchPacer::Clock::time_point at(long micros)
	{
		return BatchPacer::Clock::time_point(microseconds(1000000 + micros));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(BatchPacerTest, "frontend");
CPPUNIT_REGISTRY_ADD("frontend", "unit");
