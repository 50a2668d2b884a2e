// ReplayGuardTest.cpp - a signed pin event is applied once; its memory ends with its validity.
#include "fleet/ReplayGuard.h"

#include <cppunit/extensions/HelperMacros.h>

using dnsproxy::fleet::ReplayGuard;

class ReplayGuardTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ReplayGuardTest);
	CPPUNIT_TEST(testRefusesReplayWhileValid);
	CPPUNIT_TEST(testForgetsExpiredEvents);
	CPPUNIT_TEST(testStaysWithinCapacity);
	CPPUNIT_TEST_SUITE_END();

public:
	void testRefusesReplayWhileValid()
	{
		ReplayGuard guard;
		CPPUNIT_ASSERT(guard.firstTime("mac-1", 60000, 0));
		CPPUNIT_ASSERT(!guard.firstTime("mac-1", 60000, 59999));
		CPPUNIT_ASSERT(guard.firstTime("mac-2", 60000, 1));
	}

	void testForgetsExpiredEvents()
	{
		ReplayGuard guard;
		guard.firstTime("mac-1", 60000, 0);
		guard.firstTime("mac-2", 90000, 0);
		CPPUNIT_ASSERT(guard.firstTime("mac-3", 150000, 60000)); // mac-1 expired and dropped
		CPPUNIT_ASSERT_EQUAL(size_t(2), guard.size());
	}

	void testStaysWithinCapacity()
	{
		ReplayGuard guard(3);
		for (int i = 0; i < 10; ++i)
			CPPUNIT_ASSERT(guard.firstTime("mac-" + std::to_string(i), 60000 + i, 0));
		CPPUNIT_ASSERT(guard.size() <= 3);
		CPPUNIT_ASSERT(!guard.firstTime("mac-9", 60009, 0)); // the newest are kept
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ReplayGuardTest, "fleet");
