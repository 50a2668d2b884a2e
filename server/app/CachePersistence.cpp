// CachePersistence.cpp - converting CacheRecord to storage rows, the flush thread, the start-up load.
#include "app/CachePersistence.h"

#include "cache/PacketCache.h"
#include "storage/CacheSnapshotStore.h"
#include "storage/Database.h"

#include <Poco/Exception.h>

#include <algorithm>
#include <chrono>

namespace dnsproxy::app
{

namespace
{

storage::CacheRow toRow(cache::CacheRecord&& record)
{
	return storage::CacheRow{std::move(record.key), std::move(record.answer), record.storedAt, record.expiresAt};
}

/// The only copy of a persisted row: from SQLite's memory into the record the cache keeps.
cache::CacheRecord toRecord(const storage::CacheRowView& row)
{
	return cache::CacheRecord{std::string(row.key), std::vector<uint8_t>(row.answer, row.answer + row.answerSize),
							  row.storedAt, row.expiresAt};
}

} // namespace

CachePersistence::CachePersistence(storage::Database& database, cache::PacketCache& cache,
								   const CachePersistenceSettings& settings, stats::UnixClock clock):
	_database(database),
	_cache(cache),
	_settings(settings),
	_clock(stats::orSystemClock(std::move(clock))),
	_store(std::make_unique<storage::CacheSnapshotStore>(database)),
	_logger(Poco::Logger::get("dnsproxy.storage"))
{
}

CachePersistence::~CachePersistence()
{
	stop();
}

CachePersistence::LoadResult CachePersistence::loadInto()
{
	LoadResult result;
	const auto started = std::chrono::steady_clock::now();
	const int64_t now = _clock();
	try
	{
		std::vector<cache::CacheRecord> records;
		records.reserve(_store->count()); // an upper bound: no copies of a growing vector
		_store->forEachRow(now - static_cast<int64_t>(_settings.keepExpiredSeconds),
						   [&records](const storage::CacheRowView& row) { records.push_back(toRecord(row)); });
		result.records = records.size();
		_cache.load(std::move(records), now);
	}
	catch (const Poco::Exception& e)
	{
		_logger.warning("cannot load the cache from '" + _database.path() + "': " + e.displayText() +
						"; starting with an empty cache");
	}
	catch (const std::exception& e)
	{
		_logger.warning("cannot load the cache from '" + _database.path() + "': " + e.what() +
						"; starting with an empty cache");
	}
	result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
	_loaded.store(result.records, std::memory_order_relaxed);
	_loadSeconds.store(result.seconds, std::memory_order_relaxed);
	_logger.information("loaded %z cached answers from '%s' in %.3f s", result.records, _database.path(),
						result.seconds);
	return result;
}

void CachePersistence::start()
{
	_due = std::chrono::steady_clock::now() + interval();
	_flusher.start([this] { run(); });
}

void CachePersistence::stop()
{
	_flusher.stop();
}

std::chrono::milliseconds CachePersistence::interval() const
{
	return std::chrono::milliseconds(std::max<uint32_t>(1, _settings.flushIntervalMs));
}

bool CachePersistence::flushIfDue(std::chrono::steady_clock::time_point now)
{
	if (_due == std::chrono::steady_clock::time_point())
		_due = now + interval(); // the first look without start() begins the interval
	if (now < _due && _cache.pendingChanges() < _settings.earlyFlushChanges)
		return false;
	flushNow();
	_due = now + interval();
	return true;
}

void CachePersistence::run()
{
	// Look at the cache's pending changes ten times a second.
	const auto poll = std::min<std::chrono::steady_clock::duration>(interval(), std::chrono::milliseconds(100));
	std::unique_lock<std::mutex> lock(_flusher.mutex());
	while (!_flusher.stopping())
	{
		if (_flusher.condition().wait_for(lock, poll, [this] { return _flusher.stopping(); }))
			break;
		lock.unlock();
		flushIfDue(std::chrono::steady_clock::now());
		lock.lock();
	}
}

size_t CachePersistence::flushNow()
{
	std::lock_guard<std::mutex> lock(_flushMutex);
	// Drain first, then export: whatever changes after the export shows up in the next drain.
	cache::CacheChanges changes = _cache.drainChanges();
	if (_needFullSync)
	{
		changes.cleared = true;
		changes.erasedKeys.clear();
		changes.upserts = _cache.exportAll();
	}
	std::vector<storage::CacheRow> rows;
	rows.reserve(changes.upserts.size());
	for (auto& record : changes.upserts)
		rows.push_back(toRow(std::move(record)));
	const int64_t cutoff = _clock() - static_cast<int64_t>(_settings.keepExpiredSeconds);
	try
	{
		storage::ApplyResult result = _store->apply(changes.cleared, rows, changes.erasedKeys, cutoff);
		_persisted.fetch_add(result.written, std::memory_order_relaxed);
		_flushes.fetch_add(1, std::memory_order_relaxed);
		if (_needFullSync)
			_logger.information("cache written to '" + _database.path() + "' again (full resync, " +
								std::to_string(result.written) + " entries)");
		_needFullSync = false;
		return result.written;
	}
	catch (const Poco::Exception& e)
	{
		flushFailed(e.displayText());
	}
	catch (const std::exception& e)
	{
		flushFailed(e.what());
	}
	return 0;
}

void CachePersistence::flushFailed(const std::string& reason)
{
	_flushErrors.fetch_add(1, std::memory_order_relaxed);
	if (!_needFullSync) // one warning per failure streak, not one per interval
		_logger.warning("cannot write the cache to '" + _database.path() + "': " + reason +
						"; retrying with a full resync");
	_needFullSync = true;
}

} // namespace dnsproxy::app
