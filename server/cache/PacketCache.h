// PacketCache.h - sharded LRU cache of wire answers with TTL ageing, serve-stale (RFC 8767) and prefetch flags.
#pragma once

#include "cache/CacheKey.h"
#include "cache/CacheRecord.h"
#include "cache/CacheSettings.h"
#include "cache/TtlPolicy.h"
#include "stats/StatsSnapshot.h"
#include "stats/UnixClock.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dnsproxy::cache
{

/// What a lookup hands back: a private copy of the stored answer (ID 0, question in lower case)
/// whose TTLs are already aged by the time spent in the cache, or set to staleAnswerTtl for a
/// stale answer. The caller writes the client's ID and name case into it. An answer with EDNS
/// has its OPT RR last, without padding or keepalive options, and no name before the OPT points
/// into it: dropping the OPT for a client without EDNS is a resize (insert() guarantees this).
struct CacheHit
{
	std::vector<uint8_t> answer;
	bool fresh = true;
	/// Fresh hit in the last 10% of the entry's TTL: the caller should refresh it in the
	/// background. Returned once per stored answer, so only one refresh runs.
	bool needsPrefetch = false;
};

/// Stores upstream answers as they arrived (ID zeroed), keyed by CacheKey (lower-cased name,
/// type, class, DO, CD), like dnsdist's packet cache: a hit copies the bytes and ages every TTL in
/// place instead of re-encoding. Admission and lifetimes are TtlPolicy's. An entry is fresh until
/// its smallest TTL runs out; with serveStale it is then kept and may be served stale for
/// maxStale more seconds (never a cached SERVFAIL); after that it is dropped when next touched
/// or evicted. At most maxEntries entries: each shard holds maxEntries / shards and evicts its
/// least recently used entry, so memory stays bounded under a flood of unique names.
///
/// Persistence works through drainChanges() (write-behind), exportAll() and load(); the admin
/// API through find(), erase(), clear() and size().
///
/// Memory: each entry is one allocation holding its bookkeeping, its key and its answer; the
/// shard's hash chains and LRU list run through the entries themselves (intrusive), so an entry
/// costs its bytes minus its question (the key holds the same bytes) plus about 60 octets. Changes for persistence are
/// a per-entry flag (and a list of pointers to flagged entries), plus the keys of removed entries.
///
/// Threading: thread-safe, no global lock on the hit path. N shards (16, or 1 below 1024
/// entries so small caches have exact LRU), each a std::mutex over a hash table and an LRU list;
/// the shard is chosen by the key's hash. A lookup moves its entry to the LRU front, so it locks
/// exclusively (a shared_mutex would not help): under the lock only a hash probe, a list splice
/// and the copy of the bytes; the clock call and the TTL rewrite run outside it. Counters are
/// relaxed atomics. find(), erase(), clear() and exportAll() lock one shard at a time;
/// drainChanges() and clear() are serialised by a separate mutex, never taken on the hot path.
class PacketCache
{
public:
	struct Counters
	{
		std::atomic<uint64_t> hits{0};
		std::atomic<uint64_t> misses{0};
		std::atomic<uint64_t> staleServed{0};
		std::atomic<uint64_t> prefetches{0};
		std::atomic<uint64_t> evictions{0}; ///< LRU evictions because a shard was full
		std::atomic<uint64_t> inserts{0};
		std::atomic<uint64_t> expired{0};      ///< dropped past expiry (+ maxStale when serving stale)
		std::atomic<uint64_t> notCached{0};    ///< answers TtlPolicy refused
		std::atomic<uint64_t> loaded{0};       ///< entries accepted by load()
		std::atomic<uint64_t> loadRejected{0}; ///< records load() dropped (too old or malformed)
	};

	/// `clock`: unix seconds (empty = the system clock); tests pass a fake one.
	explicit PacketCache(const CacheSettings& settings, stats::UnixClock clock = {});
	~PacketCache();
	PacketCache(const PacketCache&) = delete;
	PacketCache& operator=(const PacketCache&) = delete;

	// --- hot path --------------------------------------------------------------------------

	/// Fresh hit, or (with serveStale, within maxStale, not a SERVFAIL) a stale one; nullopt
	/// otherwise. With countStats a fresh hit counts as a hit and anything else as a miss, and
	/// needsPrefetch may be set; without, nothing is counted and no prefetch is flagged (for
	/// the pipeline's second look when the upstream failed).
	std::optional<CacheHit> lookup(const std::string& key, bool countStats = true);
	enum class Probe
	{
		MISS,  ///< nothing servable
		FRESH, ///< copied into `out`
		STALE  ///< only a stale answer (serveStale): lookup(key, false) fetches it when needed
	};
	/// The query path's one look per query: a fresh hit is copied into `out` (whose capacity is
	/// reused, so a warm caller allocates nothing) with its TTLs aged, counted as a hit, and may
	/// set needsPrefetch as lookup() does. A stale entry or none counts as a miss and copies
	/// nothing; an expired entry past serving is dropped.
	Probe probe(const std::string& key, std::vector<uint8_t>& out, bool& needsPrefetch);
	/// The pipeline actually sent a stale answer (RFC 8767).
	void countStaleServed()
	{
		_counters.staleServed.fetch_add(1, std::memory_order_relaxed);
	}
	/// Stores an upstream answer to the question `key` if TtlPolicy admits it; the answer's
	/// question must match the key. A SERVFAIL never replaces an entry that can still be served
	/// (fresh or stale): RFC 8767 keeps the old data for exactly that case. EDNS padding
	/// (RFC 7830) and keepalive (RFC 7828) options are removed before storing: they are for the
	/// hop to the upstream, and at the 468-octet blocks of RFC 8467 padding would be most of
	/// each entry. An answer whose OPT cannot be re-encoded that way is not cached. True when stored.
	bool insert(const std::string& key, const uint8_t* answer, size_t len);

	// --- persistence (storage/ via app/) ---------------------------------------------------

	/// Entries inserted, refreshed, evicted, expired or erased since the last drain, each key
	/// once with its latest state (upsert of the current entry, or erased). Memory is bounded:
	/// when more keys change than the cache holds, the pending set is dropped and the next drain
	/// returns cleared = true with every current entry as upserts (a full resync).
	CacheChanges drainChanges();
	/// Keys changed or removed since the last drain (an estimate: a key changed twice counts
	/// twice). The flush thread drains early when this grows, so a drain stays small.
	size_t pendingChanges() const
	{
		return _pendingChanges.load(std::memory_order_relaxed);
	}
	/// Inserts persisted records with remaining TTLs computed from storedAt; records past
	/// expiresAt + maxStale (past expiresAt without serveStale), malformed ones and ones whose
	/// key does not match their answer are dropped. Loaded entries are not reported by
	/// drainChanges() (the database has them already).
	void load(std::vector<CacheRecord>&& records, int64_t nowUnix);
	/// Every entry as a record, for a full snapshot.
	std::vector<CacheRecord> exportAll() const;

	// --- admin API -------------------------------------------------------------------------

	static constexpr size_t FIND_LIMIT = 1000;
	/// Entries of `name` (presentation form, any case, trailing dot optional), all types or only
	/// `type`; an empty name lists every entry. At most FIND_LIMIT results. A name that cannot be
	/// a domain name matches nothing.
	std::vector<CacheEntryView> find(const std::string& name, std::optional<uint16_t> type) const;
	/// Removes every entry of `name` (all types, classes, DO/CD); returns how many.
	size_t erase(const std::string& name);
	/// Removes everything; the next drainChanges() says cleared.
	void clear();
	size_t size() const
	{
		return static_cast<size_t>(_entries.load(std::memory_order_relaxed));
	}

	// --- observability ---------------------------------------------------------------------

	const Counters& counters() const
	{
		return _counters;
	}
	/// Fills entries, hits, misses, stale served, prefetches, evictions and loaded; `enabled`
	/// is set. persisted and loadSeconds belong to the storage side.
	void fillStats(stats::StatsSnapshot::Cache& out) const;
	const CacheSettings& settings() const
	{
		return _settings;
	}

	/// SIGHUP reload: minTtl, maxTtl and negativeTtl of `settings` apply to answers stored from
	/// now on; the entries already cached keep the lifetime they were given. The other fields of
	/// `settings` are ignored (they need a restart). Thread-safe; the previous policy stays alive
	/// until the cache is destroyed, since a concurrent insert may still be reading it.
	void setTtlPolicy(const CacheSettings& settings);

private:
	struct Entry;
	struct Shard;

	static uint32_t hashKey(std::string_view key);
	Shard& shardFor(uint32_t hash) const;
	/// Unlinks and frees the entry (shard locked) and records its key for drainChanges().
	void removeLocked(Shard& shard, Entry* entry);
	void markDirtyLocked(Shard& shard, Entry* entry);
	void storeLocked(Shard& shard, uint32_t hash, std::string_view key, const uint8_t* answer, size_t length,
					 int64_t storedAt, int64_t expiresAt, uint8_t rcode, bool dirty);
	bool servableStale(const Entry& entry, int64_t now) const;
	bool dead(const Entry& entry, int64_t now) const;
	/// A fresh entry in the last 10% of its TTL, not flagged yet: flags it and returns true.
	bool claimPrefetch(Entry& entry, int64_t now) const;

	CacheSettings _settings;
	std::mutex _policyMutex;                           ///< serialises setTtlPolicy(); never taken on the hot path
	std::vector<std::unique_ptr<TtlPolicy>> _policies; ///< every policy set; the last is current
	std::atomic<const TtlPolicy*> _policy{nullptr};
	stats::UnixClock _clock;
	size_t _perShard;
	std::vector<std::unique_ptr<Shard>> _shards;
	std::atomic<int64_t> _entries{0};
	Counters _counters;
	std::mutex _drainMutex;
	std::atomic<bool> _clearedSinceDrain{false};
	std::atomic<bool> _overflowed{false};
	std::atomic<size_t> _pendingChanges{0};
};

} // namespace dnsproxy::cache
