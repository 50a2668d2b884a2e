// CachePersistence.h - write-behind of the PacketCache into SQLite, and loading it back at start.
#pragma once

#include "cache/CacheRecord.h"
#include "common/WorkerThread.h"
#include "stats/UnixClock.h"

#include <Poco/Logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace dnsproxy::cache
{
class PacketCache;
}

namespace dnsproxy::storage
{
class CacheSnapshotStore;
class Database;
} // namespace dnsproxy::storage

namespace dnsproxy::app
{

struct CachePersistenceSettings
{
	uint32_t flushIntervalMs = 5000; ///< how often the flush thread writes
	/// Rows expired longer ago than this are purged (the stale-serving window, else 0).
	uint32_t keepExpiredSeconds = 86400;
	/// Flush before the interval is up once this many changes wait, so one batch (a copy of
	/// every changed entry) stays around a megabyte under a flood of new names.
	size_t earlyFlushChanges = 8192;
};

/// Glue between cache::PacketCache and storage::CacheSnapshotStore (SPEC section 4, Persistence).
/// loadInto() reads the snapshot back at start (before the front end serves); start() runs a
/// flush thread that every flushIntervalMs (sooner once earlyFlushChanges changes wait) drains
/// the cache's changes and applies them in one transaction, then purges rows too old to serve; at shutdown, after the
/// front end and the upstreams have stopped, stop() joins that thread and flushNow() writes the last changes. A kill -9
/// therefore loses at most the changes of one interval, and never half a batch.
///
/// A failed flush (disk full, I/O error) is logged once, counted, and answered on the next flush
/// with a full resync (cleared + exportAll()), so nothing drained and lost stays missing; the
/// memory it needs is bounded by the cache itself.
///
/// Threading: the flush thread is the only one calling flushNow() until stop(); _flushMutex makes
/// a concurrent flushNow() (shutdown, tests) wait instead of interleaving. Counters are atomics,
/// read by the stats filler from any thread. The Database and the cache must outlive this object.
class CachePersistence
{
public:
	struct LoadResult
	{
		size_t records = 0; ///< rows read and handed to the cache (it may drop some itself)
		double seconds = 0; ///< wall time of read + load
	};

	CachePersistence(storage::Database& database, cache::PacketCache& cache, const CachePersistenceSettings& settings,
					 stats::UnixClock clock = {});
	~CachePersistence();

	CachePersistence(const CachePersistence&) = delete;
	CachePersistence& operator=(const CachePersistence&) = delete;

	/// Reads every row still worth keeping into the cache. Never throws: a read failure is logged
	/// and the proxy starts with an empty cache.
	LoadResult loadInto();

	/// Starts the flush thread.
	void start();
	/// Stops and joins the flush thread (idempotent). Does not flush: call flushNow() after.
	void stop();
	/// Drains the cache's changes and writes them; returns the rows written (0 on failure).
	size_t flushNow();
	/// One look of the flush thread at `now` (steady clock): flushes when the interval since
	/// start() or the last flush is up, or once earlyFlushChanges changes wait; true when it
	/// flushed. The flush thread calls it; a test that never calls start() drives the rule with
	/// its own `now` (its first call begins the interval).
	bool flushIfDue(std::chrono::steady_clock::time_point now);

	uint64_t persisted() const
	{
		return _persisted.load(std::memory_order_relaxed);
	}
	uint64_t loaded() const
	{
		return _loaded.load(std::memory_order_relaxed);
	}
	double loadSeconds() const
	{
		return _loadSeconds.load(std::memory_order_relaxed);
	}
	uint64_t flushes() const
	{
		return _flushes.load(std::memory_order_relaxed);
	}
	uint64_t flushErrors() const
	{
		return _flushErrors.load(std::memory_order_relaxed);
	}

private:
	void run();
	std::chrono::milliseconds interval() const;
	void flushFailed(const std::string& reason); ///< under _flushMutex

	storage::Database& _database;
	cache::PacketCache& _cache;
	CachePersistenceSettings _settings;
	stats::UnixClock _clock;
	std::unique_ptr<storage::CacheSnapshotStore> _store;
	Poco::Logger& _logger;

	std::mutex _flushMutex;
	bool _needFullSync = false; ///< a flush failed: the next one rewrites everything (under _flushMutex)

	common::WorkerThread _flusher;
	/// When the next flush is due; the flush thread's (or, without start(), the test's) only.
	std::chrono::steady_clock::time_point _due;

	std::atomic<uint64_t> _persisted{0};
	std::atomic<uint64_t> _loaded{0};
	std::atomic<double> _loadSeconds{0};
	std::atomic<uint64_t> _flushes{0};
	std::atomic<uint64_t> _flushErrors{0};
};

} // namespace dnsproxy::app
