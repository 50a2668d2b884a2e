// TcpLimitsTest.cpp - when a client TCP connection may take another query, and when it must close (output limits).
#include "frontend/OutputBudget.h"
#include "frontend/TcpClientConnection.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy;

class TcpLimitsTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TcpLimitsTest);
	CPPUNIT_TEST(testTakesQueriesBelowOwnLimit);
	CPPUNIT_TEST(testStopsAtOwnLimit);
	CPPUNIT_TEST(testStopsWhenPipelineFull);
	CPPUNIT_TEST(testExhaustedBudgetStopsAllButEmptyConnections);
	CPPUNIT_TEST(testClosesPastHardLimit);
	CPPUNIT_TEST(testClosesOverOwnLimitOnlyWhenBudgetExhausted);
	CPPUNIT_TEST(testBudgetCountsAddedAndReleasedBytes);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_limits = frontend::TcpLimits();
		_limits.maxOutputBytes = 1000;
		_limits.maxInflightPerConnection = 4;
	}

	void testTakesQueriesBelowOwnLimit()
	{
		CPPUNIT_ASSERT(_limits.mayTakeQuery(0, 0, false));
		CPPUNIT_ASSERT(_limits.mayTakeQuery(3, 999, false));
	}

	void testStopsAtOwnLimit()
	{
		CPPUNIT_ASSERT(!_limits.mayTakeQuery(0, 1000, false));
		CPPUNIT_ASSERT(!_limits.mayTakeQuery(0, 70000, false));
	}

	void testStopsWhenPipelineFull()
	{
		CPPUNIT_ASSERT(!_limits.mayTakeQuery(4, 0, false));
	}

	void testExhaustedBudgetStopsAllButEmptyConnections()
	{
		// A client that reads its answers has nothing buffered when its next query comes: it is
		// served one answer at a time while non-readers hold the budget.
		CPPUNIT_ASSERT(_limits.mayTakeQuery(0, 0, true));
		CPPUNIT_ASSERT(!_limits.mayTakeQuery(0, 1, true));
		CPPUNIT_ASSERT(!_limits.mayTakeQuery(4, 0, true));
	}

	void testClosesPastHardLimit()
	{
		CPPUNIT_ASSERT(!_limits.overHardLimit(1000 * frontend::HARD_OUTPUT_FACTOR, false));
		CPPUNIT_ASSERT(_limits.overHardLimit(1000 * frontend::HARD_OUTPUT_FACTOR + 1, false));
	}

	void testClosesOverOwnLimitOnlyWhenBudgetExhausted()
	{
		CPPUNIT_ASSERT(!_limits.overHardLimit(1001, false));
		CPPUNIT_ASSERT(_limits.overHardLimit(1001, true));
		CPPUNIT_ASSERT(!_limits.overHardLimit(1000, true));
	}

	void testBudgetCountsAddedAndReleasedBytes()
	{
		frontend::OutputBudget budget(100);
		budget.add(60);
		CPPUNIT_ASSERT(!budget.exhausted());
		budget.add(40);
		CPPUNIT_ASSERT(budget.exhausted());
		CPPUNIT_ASSERT_EQUAL(size_t(100), budget.used());
		budget.release(1);
		CPPUNIT_ASSERT(!budget.exhausted());
		CPPUNIT_ASSERT_EQUAL(size_t(100), budget.limit());
	}

private:
	frontend::TcpLimits _limits;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TcpLimitsTest, "frontend");
