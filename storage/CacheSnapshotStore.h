// CacheSnapshotStore.h - the cache_entries table: write-behind batches in, start-up snapshot out.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dnsproxy::storage
{

class Database;

/// One row of cache_entries. `key` is opaque binary (the cache's own key); `answer` the wire
/// answer with the TTLs it had at `storedAt`; times are unix seconds.
struct CacheRow
{
	std::string key;
	std::vector<uint8_t> answer;
	int64_t storedAt = 0;
	int64_t expiresAt = 0;
};

/// One row of cache_entries as SQLite hands it out: the bytes belong to SQLite and stay valid
/// only while the visitor of forEachRow() runs. Copy what you keep.
struct CacheRowView
{
	std::string_view key;
	const uint8_t* answer = nullptr;
	size_t answerSize = 0;
	int64_t storedAt = 0;
	int64_t expiresAt = 0;
};

/// What one apply() did.
struct ApplyResult
{
	size_t written = 0; ///< rows inserted or replaced
	size_t erased = 0;  ///< rows deleted because their key was erased or the cache was cleared
	size_t purged = 0;  ///< rows deleted because they expired before the purge cutoff
};

/// Knows nothing about DNS: keys and answers are blobs. Every apply() is one transaction, so a
/// crash (kill -9) leaves the previous batch or this one, never half of it.
///
/// Every statement runs through the raw SQLite API (Database::statement()), prepared once per
/// connection and bound straight from the caller's memory: the write-behind applies tens of
/// thousands of rows a second, and Poco::Data's parsing and per-row BLOB copies nearly doubled the
/// CPU time of a batch.
///
/// Threading: stateless apart from the Database reference; safe from any thread (Database
/// serialises the calls).
class CacheSnapshotStore
{
public:
	explicit CacheSnapshotStore(Database& database);

	/// In one transaction: delete every row when `cleared`; delete `erasedKeys`; insert or
	/// replace `upserts` (so a key both erased and upserted ends up stored: the upsert is the
	/// newer entry); and, when `purgeBefore` is set, delete rows with expires_at < purgeBefore.
	ApplyResult apply(bool cleared, const std::vector<CacheRow>& upserts, const std::vector<std::string>& erasedKeys,
					  std::optional<int64_t> purgeBefore = std::nullopt);

	/// Deletes rows that expired before `cutoffUnix` (callers pass now - maxStale); returns how many.
	size_t purgeExpired(int64_t cutoffUnix);

	/// Every row with expires_at >= minExpiresAt, in no particular order.
	std::vector<CacheRow> loadAll(int64_t minExpiresAt) const;

	/// Calls `visit` for every row with expires_at >= minExpiresAt, in no particular order, without
	/// copying it first: the start-up load builds its own records straight from SQLite's memory,
	/// so the data exists once. `visit` runs under the database mutex and must not use the
	/// Database; an exception from it ends the read and propagates. Returns the rows visited.
	size_t forEachRow(int64_t minExpiresAt, const std::function<void(const CacheRowView&)>& visit) const;

	size_t count() const;

private:
	Database& _database;
};

} // namespace dnsproxy::storage
