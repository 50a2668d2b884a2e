// CacheSnapshotStore.cpp - batched writes and the start-up read of cache_entries.
#include "storage/CacheSnapshotStore.h"

#include "storage/Database.h"
#include "storage/SqliteStatement.h"

#include <algorithm>

namespace dnsproxy::storage
{

namespace
{

constexpr std::string_view CLEAR_SQL = "DELETE FROM cache_entries";
constexpr std::string_view ERASE_SQL = "DELETE FROM cache_entries WHERE key = ?1";
constexpr std::string_view UPSERT_SQL =
	"INSERT OR REPLACE INTO cache_entries(key, answer, stored_at, expires_at) VALUES(?1, ?2, ?3, ?4)";
constexpr std::string_view PURGE_SQL = "DELETE FROM cache_entries WHERE expires_at < ?1";
constexpr std::string_view SELECT_SQL =
	"SELECT key, answer, stored_at, expires_at FROM cache_entries WHERE expires_at >= ?1";
constexpr std::string_view COUNT_SQL = "SELECT COUNT(*) FROM cache_entries";

/// `rows` in key order; rows with the same key keep their order, so the last one still wins.
std::vector<const CacheRow*> sortedByKey(const std::vector<CacheRow>& rows)
{
	std::vector<const CacheRow*> sorted;
	sorted.reserve(rows.size());
	for (const CacheRow& row : rows)
		sorted.push_back(&row);
	std::stable_sort(sorted.begin(), sorted.end(),
					 [](const CacheRow* a, const CacheRow* b) { return a->key < b->key; });
	return sorted;
}

std::vector<const std::string*> sortedKeys(const std::vector<std::string>& keys)
{
	std::vector<const std::string*> sorted;
	sorted.reserve(keys.size());
	for (const std::string& key : keys)
		sorted.push_back(&key);
	std::sort(sorted.begin(), sorted.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
	return sorted;
}

size_t deleteExpired(Database& database, int64_t cutoffUnix)
{
	SqliteStatement& purge = database.statement(PURGE_SQL);
	purge.bindInt64(1, cutoffUnix);
	return purge.execute();
}

} // namespace

CacheSnapshotStore::CacheSnapshotStore(Database& database):
	_database(database)
{
}

ApplyResult CacheSnapshotStore::apply(bool cleared, const std::vector<CacheRow>& upserts,
									  const std::vector<std::string>& erasedKeys, std::optional<int64_t> purgeBefore)
{
	// Cache keys arrive in hash or LRU order, which visits the b-tree pages at random; SQLite's
	// page cache (2 MB) holds a fraction of a full table (~15 MB at 100,000 rows), so pages are
	// read and written again and again. In key order each page is visited about once per batch:
	// 25,000 erases + 25,000 upserts on 100,000 rows took 172 ms of CPU unsorted, 125 ms sorted
	// (the sort of pointers, outside the lock, is about 8 ms of that).
	const std::vector<const std::string*> erasedInOrder = sortedKeys(erasedKeys);
	const std::vector<const CacheRow*> upsertsInOrder = sortedByKey(upserts);
	ApplyResult result;
	_database.transaction([&](Poco::Data::Session&) {
		if (cleared)
			result.erased += _database.statement(CLEAR_SQL).execute();
		if (!erasedKeys.empty())
		{
			SqliteStatement& erase = _database.statement(ERASE_SQL);
			for (const std::string* key : erasedInOrder)
			{
				erase.bindBlob(1, key->data(), key->size());
				result.erased += erase.execute();
			}
		}
		if (!upserts.empty())
		{
			SqliteStatement& insert = _database.statement(UPSERT_SQL);
			for (const CacheRow* row : upsertsInOrder)
			{
				insert.bindBlob(1, row->key.data(), row->key.size());
				insert.bindBlob(2, row->answer.data(), row->answer.size());
				insert.bindInt64(3, row->storedAt);
				insert.bindInt64(4, row->expiresAt);
				insert.execute();
				++result.written;
			}
		}
		if (purgeBefore)
			result.purged = deleteExpired(_database, *purgeBefore);
	});
	return result;
}

size_t CacheSnapshotStore::purgeExpired(int64_t cutoffUnix)
{
	size_t purged = 0;
	_database.transaction([&](Poco::Data::Session&) { purged = deleteExpired(_database, cutoffUnix); });
	return purged;
}

std::vector<CacheRow> CacheSnapshotStore::loadAll(int64_t minExpiresAt) const
{
	std::vector<CacheRow> rows;
	rows.reserve(count()); // an upper bound; saves the copies of a growing vector
	forEachRow(minExpiresAt, [&rows](const CacheRowView& view) {
		CacheRow& row = rows.emplace_back();
		row.key.assign(view.key);
		row.answer.assign(view.answer, view.answer + view.answerSize);
		row.storedAt = view.storedAt;
		row.expiresAt = view.expiresAt;
	});
	return rows;
}

size_t CacheSnapshotStore::forEachRow(int64_t minExpiresAt, const std::function<void(const CacheRowView&)>& visit) const
{
	return _database.withSession([&](Poco::Data::Session&) {
		SqliteStatement& select = _database.statement(SELECT_SQL);
		select.bindInt64(1, minExpiresAt);
		return select.forEachRow([&] {
			CacheRowView view;
			// sqlite3_column_blob() before sqlite3_column_bytes(), as SQLite documents.
			const uint8_t* key = select.columnBlob(0);
			view.key = std::string_view(reinterpret_cast<const char*>(key), key ? select.columnBytes(0) : 0);
			view.answer = select.columnBlob(1);
			view.answerSize = view.answer ? select.columnBytes(1) : 0;
			view.storedAt = select.columnInt64(2);
			view.expiresAt = select.columnInt64(3);
			visit(view);
		});
	});
}

size_t CacheSnapshotStore::count() const
{
	return _database.withSession([&](Poco::Data::Session&) {
		SqliteStatement& select = _database.statement(COUNT_SQL);
		size_t rows = 0;
		select.forEachRow([&] { rows = static_cast<size_t>(select.columnInt64(0)); });
		return rows;
	});
}

} // namespace dnsproxy::storage
