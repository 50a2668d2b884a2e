// CachePersistenceTest.cpp - a real PacketCache written to and loaded from a temp SQLite file.
#include "integration/storage/StorageTestDir.h"
#include "support/CachePackets.h"
#include "support/WaitFor.h"

#include "app/CachePersistence.h"
#include "cache/PacketCache.h"
#include "storage/CacheSnapshotStore.h"
#include "storage/Database.h"

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace dnsproxy::test
{

namespace
{

using namespace cachepackets;

/// One "process": a database, a cache and the glue, all sharing one fake clock.
struct Instance
{
	Instance(const std::string& path, std::atomic<int64_t>& clock, uint32_t flushIntervalMs = 5000,
			 uint32_t maxStale = 86400, size_t earlyFlushChanges = 8192):
		database(path),
		cache(settings(maxStale), [&clock] { return clock.load(); }),
		persistence(database, cache, {flushIntervalMs, maxStale, earlyFlushChanges}, [&clock] { return clock.load(); })
	{
	}

	static cache::CacheSettings settings(uint32_t maxStale)
	{
		cache::CacheSettings s;
		s.maxStale = maxStale;
		return s;
	}

	void insert(const std::string& name, uint32_t ttl)
	{
		auto answer = answerA(name, {ttl});
		CPPUNIT_ASSERT(cache.insert(keyFor(name, dns::Type::A), answer.data(), answer.size()));
	}

	size_t rows()
	{
		return storage::CacheSnapshotStore(database).count();
	}

	storage::Database database;
	cache::PacketCache cache;
	app::CachePersistence persistence;
};

} // namespace

class CachePersistenceTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CachePersistenceTest);
	CPPUNIT_TEST(testFlushWritesInsertedEntries);
	CPPUNIT_TEST(testRestartAnswersWithTtlReducedByDowntime);
	CPPUNIT_TEST(testLoadDropsEntriesOlderThanMaxStale);
	CPPUNIT_TEST(testClearAndEraseArePersisted);
	CPPUNIT_TEST(testFlushThreadWritesWithinOneInterval);
	CPPUNIT_TEST(testManyChangesFlushBeforeTheInterval);
	CPPUNIT_TEST(testFlushWaitsForTheInterval);
	CPPUNIT_TEST(testFailedFlushIsFollowedByFullResync);
	CPPUNIT_TEST(testFlushPurgesRowsPastMaxStale);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_dir = std::make_unique<StorageTestDir>();
		_clock = 1'700'000'000;
	}

	void tearDown() override
	{
		_dir.reset();
	}

	void testFlushWritesInsertedEntries()
	{
		Instance p(path(), _clock);
		p.insert("a.example", 300);
		p.insert("b.example", 300);
		p.insert("c.example", 300);
		CPPUNIT_ASSERT_EQUAL(size_t(3), p.persistence.flushNow());
		CPPUNIT_ASSERT_EQUAL(size_t(3), p.rows());
		CPPUNIT_ASSERT_EQUAL(uint64_t(3), p.persistence.persisted());
		CPPUNIT_ASSERT_EQUAL(size_t(0), p.persistence.flushNow()); // nothing changed since
	}

	void testRestartAnswersWithTtlReducedByDowntime()
	{
		{
			Instance first(path(), _clock);
			first.insert("a.example", 300);
			first.insert("b.example", 600);
			first.persistence.flushNow();
		}
		_clock += 100; // down for 100 s
		Instance second(path(), _clock);
		auto loaded = second.persistence.loadInto();
		CPPUNIT_ASSERT_EQUAL(size_t(2), loaded.records);
		CPPUNIT_ASSERT_EQUAL(size_t(2), second.cache.size());
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), second.persistence.loaded());
		auto hit = second.cache.lookup(keyFor("a.example", dns::Type::A));
		CPPUNIT_ASSERT(hit && hit->fresh);
		CPPUNIT_ASSERT_EQUAL(uint32_t(200), ttls(hit->answer).at(0));
		hit = second.cache.lookup(keyFor("b.example", dns::Type::A));
		CPPUNIT_ASSERT(hit);
		CPPUNIT_ASSERT_EQUAL(uint32_t(500), ttls(hit->answer).at(0));
		// Loaded entries are not written back: the database has them already.
		CPPUNIT_ASSERT_EQUAL(size_t(0), second.persistence.flushNow());
	}

	void testLoadDropsEntriesOlderThanMaxStale()
	{
		{
			Instance first(path(), _clock, 5000, 1000);
			first.insert("old.example", 60);
			first.insert("new.example", 3000);
			first.persistence.flushNow();
		}
		_clock += 60 + 1000 + 1; // old.example expired more than max_stale ago
		Instance second(path(), _clock, 5000, 1000);
		CPPUNIT_ASSERT_EQUAL(size_t(1), second.persistence.loadInto().records);
		CPPUNIT_ASSERT(!second.cache.lookup(keyFor("old.example", dns::Type::A)));
		CPPUNIT_ASSERT(second.cache.lookup(keyFor("new.example", dns::Type::A)));
	}

	void testClearAndEraseArePersisted()
	{
		Instance p(path(), _clock);
		p.insert("a.example", 300);
		p.insert("b.example", 300);
		p.persistence.flushNow();
		p.cache.erase("a.example");
		p.persistence.flushNow();
		CPPUNIT_ASSERT_EQUAL(size_t(1), p.rows());
		p.cache.clear();
		p.insert("c.example", 300);
		p.persistence.flushNow();
		auto rows = storage::CacheSnapshotStore(p.database).loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT(keyFor("c.example", dns::Type::A) == rows[0].key);
	}

	void testFlushThreadWritesWithinOneInterval()
	{
		Instance p(path(), _clock, 20);
		p.persistence.start();
		p.insert("a.example", 300);
		CPPUNIT_ASSERT(waitFor([&] { return p.rows() == 1; }));
		p.insert("b.example", 300);
		CPPUNIT_ASSERT(waitFor([&] { return p.rows() == 2; }));
		p.persistence.stop();
		CPPUNIT_ASSERT(p.persistence.flushes() >= 2);
	}

	void testManyChangesFlushBeforeTheInterval()
	{
		// An hour's interval, but 50 waiting changes are enough: the batch goes out early.
		Instance p(path(), _clock, 3600 * 1000, 86400, 50);
		const auto start = std::chrono::steady_clock::time_point(std::chrono::hours(1));
		CPPUNIT_ASSERT(!p.persistence.flushIfDue(start));
		for (int i = 0; i < 49; ++i)
			p.insert("n" + std::to_string(i) + ".example", 300);
		const auto later = start + std::chrono::minutes(59);
		CPPUNIT_ASSERT(!p.persistence.flushIfDue(later));
		CPPUNIT_ASSERT_EQUAL(size_t(0), p.rows());
		p.insert("n49.example", 300);
		CPPUNIT_ASSERT(p.persistence.flushIfDue(later));
		CPPUNIT_ASSERT_EQUAL(size_t(50), p.rows());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), p.persistence.flushes());
	}

	void testFlushWaitsForTheInterval()
	{
		Instance p(path(), _clock, 5000);
		const auto start = std::chrono::steady_clock::time_point(std::chrono::hours(1));
		CPPUNIT_ASSERT(!p.persistence.flushIfDue(start));
		p.insert("a.example", 300);
		CPPUNIT_ASSERT(!p.persistence.flushIfDue(start + std::chrono::milliseconds(4999)));
		CPPUNIT_ASSERT_EQUAL(size_t(0), p.rows());
		CPPUNIT_ASSERT(p.persistence.flushIfDue(start + std::chrono::milliseconds(5000)));
		CPPUNIT_ASSERT_EQUAL(size_t(1), p.rows());
	}

	void testFailedFlushIsFollowedByFullResync()
	{
		Instance p(path(), _clock);
		p.insert("a.example", 300);
		p.database.withSession([](Poco::Data::Session& s) {
			s << "CREATE TRIGGER full BEFORE INSERT ON cache_entries BEGIN SELECT RAISE(ABORT, 'disk full'); END",
				Poco::Data::Keywords::now;
		});
		LogCapture log("dnsproxy.storage");
		CPPUNIT_ASSERT_EQUAL(size_t(0), p.persistence.flushNow());
		p.insert("b.example", 300);
		CPPUNIT_ASSERT_EQUAL(size_t(0), p.persistence.flushNow());
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), p.persistence.flushErrors());
		CPPUNIT_ASSERT_EQUAL(size_t(1), log.warnings()); // one per failure streak
		p.database.withSession([](Poco::Data::Session& s) { s << "DROP TRIGGER full", Poco::Data::Keywords::now; });
		p.insert("c.example", 300);
		CPPUNIT_ASSERT_EQUAL(size_t(3), p.persistence.flushNow()); // a.example was drained and failed: still written
		CPPUNIT_ASSERT_EQUAL(size_t(3), p.rows());
	}

	void testFlushPurgesRowsPastMaxStale()
	{
		Instance p(path(), _clock, 5000, 100);
		p.insert("short.example", 10);
		p.insert("long.example", 3000);
		p.persistence.flushNow();
		_clock += 10 + 100 + 1;
		p.persistence.flushNow();
		auto rows = storage::CacheSnapshotStore(p.database).loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT(keyFor("long.example", dns::Type::A) == rows[0].key);
	}

private:
	std::string path() const
	{
		return _dir->file("cache.db");
	}

	std::unique_ptr<StorageTestDir> _dir;
	std::atomic<int64_t> _clock{0};
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CachePersistenceTest, "storage");

} // namespace dnsproxy::test
