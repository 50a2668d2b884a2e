// CacheSnapshotStoreTest.cpp - batched writes, purge and start-up read of cache_entries.
#include "integration/storage/StorageTestDir.h"

#include "storage/CacheSnapshotStore.h"
#include "storage/Database.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <map>
#include <memory>

namespace dnsproxy::test
{

namespace
{

storage::CacheRow row(const std::string& key, int64_t storedAt, int64_t expiresAt, uint8_t fill = 0xab)
{
	std::vector<uint8_t> answer(64, fill);
	answer[0] = 0x00; // a zero byte inside the blob must survive
	return storage::CacheRow{key, answer, storedAt, expiresAt};
}

std::map<std::string, storage::CacheRow> byKey(const std::vector<storage::CacheRow>& rows)
{
	std::map<std::string, storage::CacheRow> result;
	for (const auto& r : rows)
		result[r.key] = r;
	return result;
}

} // namespace

class CacheSnapshotStoreTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CacheSnapshotStoreTest);
	CPPUNIT_TEST(testRoundTripsBinaryKeysAndAnswers);
	CPPUNIT_TEST(testUpsertReplacesSameKey);
	CPPUNIT_TEST(testErasesKeys);
	CPPUNIT_TEST(testClearedDeletesEverythingBeforeUpserts);
	CPPUNIT_TEST(testUpsertWinsOverEraseOfSameKey);
	CPPUNIT_TEST(testLoadAllSkipsRowsExpiredBeforeMinimum);
	CPPUNIT_TEST(testPurgeExpiredDeletesOnlyOlderRows);
	CPPUNIT_TEST(testApplyPurgesInSameCall);
	CPPUNIT_TEST(testFailedApplyLeavesPreviousState);
	CPPUNIT_TEST(testWritesTenThousandRowsInOneApply);
	CPPUNIT_TEST(testLastUpsertOfSameKeyWins);
	CPPUNIT_TEST(testRoundTripsEmptyAnswer);
	CPPUNIT_TEST(testStatementsSurviveManyApplies);
	CPPUNIT_TEST(testApplyAfterFailedApplyWorks);
	CPPUNIT_TEST(testForEachRowVisitsRowsAboveMinimum);
	CPPUNIT_TEST(testVisitorExceptionLeavesStoreUsable);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_dir = std::make_unique<StorageTestDir>();
		reopen();
	}

	void tearDown() override
	{
		_store.reset();
		_db.reset();
		_dir.reset();
	}

	void testRoundTripsBinaryKeysAndAnswers()
	{
		const std::string key("\x07"
							  "example\x03"
							  "com\x00\x00\x01\x00\x01\x80",
							  18);
		_store->apply(false, {row(key, 1000, 1300)}, {});
		reopen();
		auto rows = _store->loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT_EQUAL(size_t(18), rows[0].key.size());
		CPPUNIT_ASSERT(key == rows[0].key);
		CPPUNIT_ASSERT(row(key, 1000, 1300).answer == rows[0].answer);
		CPPUNIT_ASSERT_EQUAL(int64_t(1000), rows[0].storedAt);
		CPPUNIT_ASSERT_EQUAL(int64_t(1300), rows[0].expiresAt);
	}

	void testUpsertReplacesSameKey()
	{
		_store->apply(false, {row("a", 1000, 1300, 1)}, {});
		_store->apply(false, {row("a", 2000, 2300, 2)}, {});
		auto rows = _store->loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT_EQUAL(int64_t(2300), rows[0].expiresAt);
		CPPUNIT_ASSERT_EQUAL(uint8_t(2), rows[0].answer.back());
	}

	void testErasesKeys()
	{
		_store->apply(false, {row("a", 1, 100), row("b", 1, 100), row("c", 1, 100)}, {});
		auto result = _store->apply(false, {}, {"a", "c", "missing"});
		CPPUNIT_ASSERT_EQUAL(size_t(2), result.erased);
		auto rows = _store->loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT_EQUAL(std::string("b"), rows[0].key);
	}

	void testClearedDeletesEverythingBeforeUpserts()
	{
		_store->apply(false, {row("a", 1, 100), row("b", 1, 100)}, {});
		_store->apply(true, {row("new", 1, 100)}, {});
		auto rows = _store->loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT_EQUAL(std::string("new"), rows[0].key);
	}

	void testUpsertWinsOverEraseOfSameKey()
	{
		_store->apply(false, {row("a", 1, 100)}, {});
		_store->apply(false, {row("a", 5, 500)}, {"a"});
		auto rows = _store->loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT_EQUAL(int64_t(500), rows[0].expiresAt);
	}

	void testLoadAllSkipsRowsExpiredBeforeMinimum()
	{
		_store->apply(false, {row("old", 1, 100), row("edge", 1, 200), row("new", 1, 300)}, {});
		auto rows = byKey(_store->loadAll(200));
		CPPUNIT_ASSERT_EQUAL(size_t(2), rows.size());
		CPPUNIT_ASSERT(rows.count("edge") && rows.count("new"));
		CPPUNIT_ASSERT_EQUAL(size_t(3), _store->count()); // loading never deletes
	}

	void testPurgeExpiredDeletesOnlyOlderRows()
	{
		_store->apply(false, {row("old", 1, 100), row("edge", 1, 200), row("new", 1, 300)}, {});
		CPPUNIT_ASSERT_EQUAL(size_t(1), _store->purgeExpired(200));
		CPPUNIT_ASSERT_EQUAL(size_t(2), _store->count());
	}

	void testApplyPurgesInSameCall()
	{
		_store->apply(false, {row("old", 1, 100)}, {});
		auto result = _store->apply(false, {row("new", 1, 300)}, {}, int64_t(150));
		CPPUNIT_ASSERT_EQUAL(size_t(1), result.written);
		CPPUNIT_ASSERT_EQUAL(size_t(1), result.purged);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _store->count());
	}

	/// A trigger that makes inserting the key "bad" fail, so a batch fails half-way.
	static void refuseInsertOfKeyBad(storage::Database& db)
	{
		db.withSession([](Poco::Data::Session& s) {
			s << "CREATE TRIGGER refuse BEFORE INSERT ON cache_entries WHEN NEW.key = CAST('bad' AS BLOB)"
				 " BEGIN SELECT RAISE(ABORT, 'refused'); END",
				Poco::Data::Keywords::now;
		});
	}

	void testFailedApplyLeavesPreviousState()
	{
		_store->apply(false, {row("a", 1, 100)}, {});
		// A trigger makes the second insert of the batch fail after the clear and the first insert ran.
		refuseInsertOfKeyBad(*_db);
		CPPUNIT_ASSERT_THROW(_store->apply(true, {row("b", 1, 100), row("bad", 1, 100)}, {}), Poco::Exception);
		auto rows = _store->loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT_EQUAL(std::string("a"), rows[0].key);
	}

	void testWritesTenThousandRowsInOneApply()
	{
		std::vector<storage::CacheRow> rows;
		for (int i = 0; i < 10000; ++i)
			rows.push_back(row("name-" + std::to_string(i), 1, 1000 + i));
		CPPUNIT_ASSERT_EQUAL(size_t(10000), _store->apply(false, rows, {}).written);
		CPPUNIT_ASSERT_EQUAL(size_t(10000), _store->count());
		CPPUNIT_ASSERT_EQUAL(size_t(5000), _store->loadAll(6000).size());
	}

	void testLastUpsertOfSameKeyWins()
	{
		// apply() writes in key order; rows with equal keys must keep their order.
		_store->apply(false, {row("b", 1, 100, 1), row("a", 1, 100, 1), row("b", 2, 200, 2), row("b", 3, 300, 3)}, {});
		auto rows = byKey(_store->loadAll(0));
		CPPUNIT_ASSERT_EQUAL(size_t(2), rows.size());
		CPPUNIT_ASSERT_EQUAL(int64_t(300), rows["b"].expiresAt);
		CPPUNIT_ASSERT_EQUAL(uint8_t(3), rows["b"].answer.back());
	}

	void testRoundTripsEmptyAnswer()
	{
		_store->apply(false, {storage::CacheRow{"k", {}, 1, 100}}, {});
		auto rows = _store->loadAll(0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows.size());
		CPPUNIT_ASSERT(rows[0].answer.empty());
	}

	void testStatementsSurviveManyApplies()
	{
		// The statements are prepared once and reused: every batch must see its own bindings only.
		const int batches = 300;
		for (int b = 0; b < batches; ++b)
		{
			std::vector<storage::CacheRow> upserts;
			for (int i = 0; i < 10; ++i)
				upserts.push_back(row("k" + std::to_string(b) + "-" + std::to_string(i), b, 1000 + b, uint8_t(b)));
			std::vector<std::string> erased;
			if (b > 0)
				for (int i = 0; i < 5; ++i)
					erased.push_back("k" + std::to_string(b - 1) + "-" + std::to_string(i));
			auto result = _store->apply(false, upserts, erased, int64_t(1000 + b - 9));
			CPPUNIT_ASSERT_EQUAL(size_t(10), result.written);
			CPPUNIT_ASSERT_EQUAL(b > 0 ? size_t(5) : size_t(0), result.erased);
		}
		// Batches b >= batches - 10 survive the purge: 10 rows for the last, 5 for each earlier one.
		auto rows = byKey(_store->loadAll(0));
		CPPUNIT_ASSERT_EQUAL(size_t(10 + 9 * 5), rows.size());
		CPPUNIT_ASSERT_EQUAL(uint8_t(batches - 1), rows["k299-0"].answer.back());
		CPPUNIT_ASSERT_EQUAL(int64_t(1000 + 290), rows["k290-9"].expiresAt);
		CPPUNIT_ASSERT(!rows.count("k290-0"));
		CPPUNIT_ASSERT_EQUAL(std::string("ok"), _db->quickCheck());
	}

	void testApplyAfterFailedApplyWorks()
	{
		_store->apply(false, {row("a", 1, 100)}, {});
		refuseInsertOfKeyBad(*_db);
		CPPUNIT_ASSERT_THROW(_store->apply(false, {row("b", 1, 100), row("bad", 1, 100), row("c", 1, 100)}, {"a"}),
							 Poco::Exception);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _store->count()); // the erase of "a" and the insert of "b" rolled back
		_db->withSession([](Poco::Data::Session& s) { s << "DROP TRIGGER refuse", Poco::Data::Keywords::now; });
		// The statement that failed was reset, and the transaction rolled back: the same statements work.
		auto result = _store->apply(false, {row("b", 1, 100), row("bad", 1, 100)}, {"a"});
		CPPUNIT_ASSERT_EQUAL(size_t(2), result.written);
		CPPUNIT_ASSERT_EQUAL(size_t(1), result.erased);
		auto rows = byKey(_store->loadAll(0));
		CPPUNIT_ASSERT_EQUAL(size_t(2), rows.size());
		CPPUNIT_ASSERT(rows.count("b") && rows.count("bad"));
	}

	void testForEachRowVisitsRowsAboveMinimum()
	{
		_store->apply(false, {row("old", 1, 100), row("new", 7, 300, 0x42)}, {});
		std::vector<storage::CacheRow> seen;
		const size_t visited = _store->forEachRow(200, [&](const storage::CacheRowView& view) {
			seen.push_back(
				{std::string(view.key), {view.answer, view.answer + view.answerSize}, view.storedAt, view.expiresAt});
		});
		CPPUNIT_ASSERT_EQUAL(size_t(1), visited);
		CPPUNIT_ASSERT_EQUAL(size_t(1), seen.size());
		CPPUNIT_ASSERT_EQUAL(std::string("new"), seen[0].key);
		CPPUNIT_ASSERT(row("new", 7, 300, 0x42).answer == seen[0].answer);
		CPPUNIT_ASSERT_EQUAL(int64_t(7), seen[0].storedAt);
		CPPUNIT_ASSERT_EQUAL(int64_t(300), seen[0].expiresAt);
	}

	void testVisitorExceptionLeavesStoreUsable()
	{
		_store->apply(false, {row("a", 1, 100), row("b", 1, 100)}, {});
		CPPUNIT_ASSERT_THROW(
			_store->forEachRow(0, [](const storage::CacheRowView&) { throw std::runtime_error("out of memory"); }),
			std::runtime_error);
		// The mutex was released and the query reset: writes and a full read work.
		_store->apply(false, {row("c", 1, 100)}, {"a"});
		CPPUNIT_ASSERT_EQUAL(size_t(2), _store->loadAll(0).size());
	}

private:
	/// Opens the database file again (the first time, creates it), as a restart does.
	void reopen()
	{
		_store.reset();
		_db.reset();
		_db = std::make_unique<storage::Database>(_dir->file("db"));
		_store = std::make_unique<storage::CacheSnapshotStore>(*_db);
	}

	std::unique_ptr<StorageTestDir> _dir;
	std::unique_ptr<storage::Database> _db;
	std::unique_ptr<storage::CacheSnapshotStore> _store;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CacheSnapshotStoreTest, "storage");

} // namespace dnsproxy::test
