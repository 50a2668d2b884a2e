// ConnectionRegistryTest.cpp - the process-wide connection limit and "evict the idlest", from many threads.
#include "frontend/ConnectionRegistry.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>
#include <vector>

using namespace dnsproxy;
using frontend::ConnectionRegistry;
using Clock = frontend::RegisteredConnection::Clock;
using Verdict = ConnectionRegistry::Verdict;

namespace
{

/// Records its evictions; the log is written under the registry's lock (evict() runs there).
class FakeConnection: public frontend::RegisteredConnection
{
public:
	explicit FakeConnection(std::vector<FakeConnection*>* log = nullptr):
		_log(log)
	{
	}

	void evict() override
	{
		evictions.fetch_add(1);
		if (_log)
			_log->push_back(this);
	}

	std::atomic<int> evictions{0};

private:
	std::vector<FakeConnection*>* _log;
};

const Clock::time_point T0 = Clock::time_point(std::chrono::hours(1));

Clock::time_point at(int seconds)
{
	return T0 + std::chrono::seconds(seconds);
}

} // namespace

class ConnectionRegistryTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ConnectionRegistryTest);
	CPPUNIT_TEST(testAdmitsBelowLimit);
	CPPUNIT_TEST(testRefusesAtLimitWhenNoneIdle);
	CPPUNIT_TEST(testEvictsIdlestNotBusyOnes);
	CPPUNIT_TEST(testEvictedLeavingFreesNoSlot);
	CPPUNIT_TEST(testLeaveIsIdempotent);
	CPPUNIT_TEST(testConcurrentAdmissionsEvictGloballyIdlestOnce);
	CPPUNIT_TEST(testConcurrentAdmissionsRefusedWhenAllBusy);
	CPPUNIT_TEST_SUITE_END();

public:
	void testAdmitsBelowLimit()
	{
		stats::FrontendStats stats;
		ConnectionRegistry registry(2, stats);
		FakeConnection a, b;
		CPPUNIT_ASSERT(Verdict::ADMITTED == registry.admit(a, at(0)));
		CPPUNIT_ASSERT(Verdict::ADMITTED == registry.admit(b, at(1)));
		CPPUNIT_ASSERT_EQUAL(size_t(2), registry.count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), stats.tcpConnectionsNow.load());
		a.leaveRegistry();
		CPPUNIT_ASSERT_EQUAL(size_t(1), registry.count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), stats.tcpConnectionsNow.load());
		b.leaveRegistry();
	}

	void testRefusesAtLimitWhenNoneIdle()
	{
		stats::FrontendStats stats;
		ConnectionRegistry registry(2, stats);
		FakeConnection a, b, c;
		registry.admit(a, at(0));
		registry.admit(b, at(1));
		a.publishActivity(at(2), false);
		b.publishActivity(at(3), false);
		CPPUNIT_ASSERT(Verdict::REFUSED == registry.admit(c, at(4)));
		CPPUNIT_ASSERT_EQUAL(0, a.evictions.load() + b.evictions.load());
		CPPUNIT_ASSERT_EQUAL(size_t(2), registry.count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), stats.tcpConnectionsNow.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), stats.tcpIdleClosed.load());
		c.leaveRegistry(); // not a member: nothing happens
		CPPUNIT_ASSERT_EQUAL(size_t(2), registry.count());
		a.leaveRegistry();
		b.leaveRegistry();
	}

	void testEvictsIdlestNotBusyOnes()
	{
		stats::FrontendStats stats;
		ConnectionRegistry registry(3, stats);
		FakeConnection busyOldest, idleOld, idleNew, newcomer;
		registry.admit(busyOldest, at(0));
		registry.admit(idleOld, at(0));
		registry.admit(idleNew, at(0));
		busyOldest.publishActivity(at(1), false);
		idleNew.publishActivity(at(3), true);
		idleOld.publishActivity(at(2), true);
		CPPUNIT_ASSERT(Verdict::ADMITTED_BY_EVICTION == registry.admit(newcomer, at(4)));
		CPPUNIT_ASSERT_EQUAL(1, idleOld.evictions.load());
		CPPUNIT_ASSERT(idleOld.evicted());
		CPPUNIT_ASSERT_EQUAL(0, busyOldest.evictions.load() + idleNew.evictions.load());
		CPPUNIT_ASSERT_EQUAL(size_t(3), registry.count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(3), stats.tcpConnectionsNow.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), stats.tcpIdleClosed.load());
		for (auto* c : {&busyOldest, &idleOld, &idleNew, &newcomer})
			c->leaveRegistry();
	}

	void testEvictedLeavingFreesNoSlot()
	{
		stats::FrontendStats stats;
		ConnectionRegistry registry(1, stats);
		FakeConnection a, b, c;
		registry.admit(a, at(0));
		registry.admit(b, at(1)); // evicts a
		a.leaveRegistry();        // its loop closed it: the slot is b's already
		CPPUNIT_ASSERT_EQUAL(size_t(1), registry.count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), stats.tcpConnectionsNow.load());
		// a is gone, so c evicts b, the only member left.
		CPPUNIT_ASSERT(Verdict::ADMITTED_BY_EVICTION == registry.admit(c, at(2)));
		CPPUNIT_ASSERT_EQUAL(1, a.evictions.load());
		CPPUNIT_ASSERT_EQUAL(1, b.evictions.load());
		b.leaveRegistry();
		c.leaveRegistry();
		CPPUNIT_ASSERT_EQUAL(size_t(0), registry.count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), stats.tcpConnectionsNow.load());
	}

	void testLeaveIsIdempotent()
	{
		stats::FrontendStats stats;
		ConnectionRegistry registry(4, stats);
		FakeConnection a, b;
		registry.admit(a, at(0));
		registry.admit(b, at(0));
		a.leaveRegistry();
		a.leaveRegistry();
		CPPUNIT_ASSERT_EQUAL(size_t(1), registry.count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), stats.tcpConnectionsNow.load());
		b.leaveRegistry();
	}

	/// MAX idle members with distinct old activities, then THREADS threads admit newcomers (newer
	/// than every member) at once. The evictions, serialised by the registry's lock, must take the
	/// old members first, idlest first, each once; the count never passes the limit.
	void testConcurrentAdmissionsEvictGloballyIdlestOnce()
	{
		constexpr size_t MAX = 64;
		constexpr size_t THREADS = 8;
		constexpr size_t PER_THREAD = 40;
		stats::FrontendStats stats;
		std::vector<FakeConnection*> evicted;
		ConnectionRegistry registry(MAX, stats);
		std::deque<FakeConnection> members;
		for (size_t i = 0; i < MAX; ++i)
		{
			// Admitted in an order unrelated to idleness: activity (i * 37) mod MAX seconds.
			members.emplace_back(&evicted);
			registry.admit(members.back(), at(static_cast<int>((i * 37) % MAX)));
		}
		std::vector<std::deque<FakeConnection>> newcomers(THREADS);
		std::atomic<bool> done{false};
		std::atomic<size_t> peak{0};
		std::thread watcher([&] {
			while (!done.load())
				peak.store(std::max(peak.load(), registry.count()));
		});
		std::vector<std::thread> threads;
		std::atomic<size_t> byEviction{0};
		for (size_t t = 0; t < THREADS; ++t)
			threads.emplace_back([&, t] {
				for (size_t i = 0; i < PER_THREAD; ++i)
				{
					newcomers[t].emplace_back(&evicted);
					if (registry.admit(newcomers[t].back(), at(1000 + static_cast<int>(i))) ==
						Verdict::ADMITTED_BY_EVICTION)
						byEviction.fetch_add(1);
				}
			});
		for (auto& thread : threads)
			thread.join();
		done = true;
		watcher.join();

		CPPUNIT_ASSERT_EQUAL(THREADS * PER_THREAD, byEviction.load());
		CPPUNIT_ASSERT_EQUAL(THREADS * PER_THREAD, evicted.size());
		CPPUNIT_ASSERT(peak.load() <= MAX);
		CPPUNIT_ASSERT_EQUAL(MAX, registry.count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(MAX), stats.tcpConnectionsNow.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(THREADS * PER_THREAD), stats.tcpIdleClosed.load());
		for (size_t i = 0; i < MAX; ++i)
			CPPUNIT_ASSERT_EQUAL(at(static_cast<int>(i)).time_since_epoch().count(),
								 evicted[i]->publishedActivity().time_since_epoch().count());
		auto once = [](const FakeConnection& c) { return c.evictions.load() <= 1; };
		for (auto& c : members)
			CPPUNIT_ASSERT(once(c) && c.evicted());
		size_t holding = 0;
		for (auto& list : newcomers)
			for (auto& c : list)
			{
				CPPUNIT_ASSERT(once(c));
				holding += c.evicted() ? 0 : 1;
			}
		CPPUNIT_ASSERT_EQUAL(MAX, holding);
		leaveAll(members, newcomers);
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), stats.tcpConnectionsNow.load());
	}

	void testConcurrentAdmissionsRefusedWhenAllBusy()
	{
		constexpr size_t MAX = 16;
		stats::FrontendStats stats;
		ConnectionRegistry registry(MAX, stats);
		std::deque<FakeConnection> members(MAX);
		for (auto& c : members)
		{
			registry.admit(c, at(0));
			c.publishActivity(at(1), false);
		}
		std::vector<std::deque<FakeConnection>> newcomers(4);
		std::atomic<size_t> refused{0};
		std::vector<std::thread> threads;
		for (auto& list : newcomers)
			threads.emplace_back([&] {
				for (int i = 0; i < 50; ++i)
				{
					list.emplace_back();
					if (registry.admit(list.back(), at(2)) == Verdict::REFUSED)
						refused.fetch_add(1);
				}
			});
		for (auto& thread : threads)
			thread.join();
		CPPUNIT_ASSERT_EQUAL(size_t(200), refused.load());
		CPPUNIT_ASSERT_EQUAL(MAX, registry.count());
		for (auto& c : members)
			CPPUNIT_ASSERT_EQUAL(0, c.evictions.load());
		leaveAll(members, newcomers);
	}

private:
	static void leaveAll(std::deque<FakeConnection>& members, std::vector<std::deque<FakeConnection>>& newcomers)
	{
		for (auto& c : members)
			c.leaveRegistry();
		for (auto& list : newcomers)
			for (auto& c : list)
				c.leaveRegistry();
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ConnectionRegistryTest, "frontend");
