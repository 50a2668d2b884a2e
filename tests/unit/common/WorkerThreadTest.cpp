// WorkerThreadTest.cpp - tests of common::WorkerThread: start, wake, stop and join, restart.
#include "common/WorkerThread.h"

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <deque>

using dnsproxy::common::WorkerThread;

class WorkerThreadTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(WorkerThreadTest);
	CPPUNIT_TEST(testStopJoinsEveryWaitingWorker);
	CPPUNIT_TEST(testWorkerTakesQueuedItemsUnderItsMutex);
	CPPUNIT_TEST(testSecondStartWhileRunningStartsNothing);
	CPPUNIT_TEST(testStoppedWorkerCanBeStartedAgain);
	CPPUNIT_TEST(testStopWithoutStartDoesNothing);
	CPPUNIT_TEST_SUITE_END();

public:
	/// The usual loop: wait on the condition until stopping() (no timeout, so only stop() ends it).
	static void waitUntilStopped(WorkerThread& worker, std::atomic<int>& exited)
	{
		std::unique_lock<std::mutex> lock(worker.mutex());
		worker.condition().wait(lock, [&worker] { return worker.stopping(); });
		exited.fetch_add(1);
	}

	void testStopJoinsEveryWaitingWorker()
	{
		WorkerThread worker;
		std::atomic<int> exited{0};
		worker.start([&] { waitUntilStopped(worker, exited); }, 3);
		worker.stop(); // returns only once all three have left their loop
		CPPUNIT_ASSERT_EQUAL(3, exited.load());
		std::lock_guard<std::mutex> lock(worker.mutex());
		CPPUNIT_ASSERT(worker.stopping());
	}

	void testWorkerTakesQueuedItemsUnderItsMutex()
	{
		WorkerThread worker;
		std::deque<int> queue;
		int sum = 0;
		int taken = 0;
		std::condition_variable done;
		worker.start([&] {
			std::unique_lock<std::mutex> lock(worker.mutex());
			while (!worker.stopping())
			{
				worker.condition().wait(lock, [&] { return worker.stopping() || !queue.empty(); });
				while (!queue.empty())
				{
					sum += queue.front();
					queue.pop_front();
					++taken;
				}
				done.notify_all();
			}
		});
		for (int i = 1; i <= 4; ++i)
		{
			std::lock_guard<std::mutex> lock(worker.mutex());
			queue.push_back(i);
			worker.notifyOne();
		}
		{
			std::unique_lock<std::mutex> lock(worker.mutex());
			CPPUNIT_ASSERT(done.wait_for(lock, std::chrono::seconds(5), [&] { return taken == 4; }));
		}
		worker.stop();
		CPPUNIT_ASSERT_EQUAL(10, sum);
	}

	void testSecondStartWhileRunningStartsNothing()
	{
		WorkerThread worker;
		std::atomic<int> exited{0};
		worker.start([&] { waitUntilStopped(worker, exited); }, 2);
		worker.start([&] { waitUntilStopped(worker, exited); }, 5);
		worker.stop();
		CPPUNIT_ASSERT_EQUAL(2, exited.load());
	}

	void testStoppedWorkerCanBeStartedAgain()
	{
		WorkerThread worker;
		std::atomic<int> exited{0};
		worker.start([&] { waitUntilStopped(worker, exited); });
		worker.stop();
		worker.start([&] { waitUntilStopped(worker, exited); });
		{
			std::lock_guard<std::mutex> lock(worker.mutex());
			CPPUNIT_ASSERT(!worker.stopping());
		}
		worker.stop();
		CPPUNIT_ASSERT_EQUAL(2, exited.load());
	}

	void testStopWithoutStartDoesNothing()
	{
		WorkerThread worker;
		worker.stop();
		worker.stop();
		std::lock_guard<std::mutex> lock(worker.mutex());
		CPPUNIT_ASSERT(worker.stopping());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(WorkerThreadTest, "common");
CPPUNIT_REGISTRY_ADD("common", "unit");
