// PacketCache.cpp - sharded LRU packet cache: lookup with TTL ageing, insert, persistence and admin views.
#include "cache/PacketCache.h"

#include "dns/Constants.h"
#include "dns/Edns.h"
#include "dns/Header.h"
#include "dns/Name.h"
#include "dns/TtlWalker.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string_view>

namespace dnsproxy::cache
{

struct PacketCache::Entry
{
	std::string key;
	std::vector<uint8_t> answer; ///< ID 0, question lower case, TTLs as at storedAt
	int64_t storedAt = 0;
	int64_t expiresAt = 0;
	uint8_t rcode = 0;
	bool prefetchFlagged = false;
};

struct PacketCache::Shard
{
	std::mutex mutex;
	std::list<Entry> lru; ///< most recently used first
	/// Views into the list nodes' keys (list nodes never move), so each key is stored once.
	std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
	/// Keys changed since the last drain; their current state is read at drain time.
	std::unordered_set<std::string> dirty;
};

namespace
{

/// The answer's question must be the key's question; anything else is a bug upstream or an attack.
bool questionMatchesKey(const uint8_t* answer, const dns::MessageInfo& info, const std::string& key)
{
	const size_t nameLen = CacheKey::nameLength(key);
	if (nameLen == 0 || info.header.qdcount != 1 || info.qnameCompressed || info.qnameLength != nameLen)
		return false;
	const auto* k = reinterpret_cast<const uint8_t*>(key.data());
	return dns::namesEqualIgnoreCase(answer + info.qnameOffset, info.qnameLength, k, nameLen) &&
		   info.qtype == dns::readU16(k + nameLen) && info.qclass == dns::readU16(k + nameLen + 2);
}

/// Stored form: ID 0 (the client's goes in on a hit), question name lower case.
void normalise(std::vector<uint8_t>& answer, const dns::MessageInfo& info)
{
	dns::writeId(answer.data(), 0);
	dns::toLowerWire(answer.data() + info.qnameOffset, info.qnameLength);
}

/// Padding and keepalive are the proxy's business with its upstream: an A answer padded to a
/// 468-octet block (RFC 8467) is several times its unpadded size. The rewrite also leaves the OPT
/// last with nothing before it pointing into it, which the hit path relies on (see CacheHit).
/// False when the OPT cannot be re-encoded that way; `info` describes the result.
bool stripHopOptions(std::vector<uint8_t>& answer, dns::MessageInfo& info)
{
	if (!info.edns.present)
		return true;
	auto stripped = dns::rewriteOpt(answer.data(), answer.size(), info.edns.udpPayloadSize,
									{dns::EdnsOptionCode::PADDING, dns::EdnsOptionCode::TCP_KEEPALIVE}, {});
	if (!stripped || dns::parseMessage(stripped->data(), stripped->size(), info) != dns::ParseError::NONE)
		return false;
	// Exact size: the rewrite reserved room for the padded original, which would stay allocated.
	answer.assign(stripped->begin(), stripped->end());
	answer.shrink_to_fit();
	return true;
}

std::optional<std::vector<uint8_t>> nameFilter(const std::string& name)
{
	if (name.empty())
		return std::vector<uint8_t>{};
	auto wire = dns::nameFromString(name);
	if (!wire)
		return std::nullopt;
	dns::toLowerWire(wire->data(), wire->size());
	return wire;
}

bool keyHasName(const std::string& key, const std::vector<uint8_t>& wire)
{
	return wire.empty() ||
		   (CacheKey::nameLength(key) == wire.size() && std::memcmp(key.data(), wire.data(), wire.size()) == 0);
}

} // namespace

PacketCache::PacketCache(const CacheSettings& settings, Clock clock):
	_settings(settings),
	_policy(settings),
	_clock(std::move(clock))
{
	const size_t maxEntries = std::max<size_t>(1, _settings.maxEntries);
	const size_t shards = maxEntries < 1024 ? 1 : std::max<size_t>(1, _settings.shards);
	// Floor division: the sum of the shard limits never exceeds max_entries.
	_perShard = std::max<size_t>(1, maxEntries / shards);
	for (size_t i = 0; i < shards; ++i)
		_shards.push_back(std::make_unique<Shard>());
}

PacketCache::~PacketCache() = default;

PacketCache::Clock PacketCache::systemClock()
{
	return [] {
		return static_cast<int64_t>(
			std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
				.count());
	};
}

PacketCache::Shard& PacketCache::shardFor(const std::string& key) const
{
	return *_shards[std::hash<std::string_view>{}(key) % _shards.size()];
}

bool PacketCache::servableStale(const Entry& entry, int64_t now) const
{
	return _settings.serveStale && entry.rcode != dns::Rcode::SERVFAIL && now >= entry.expiresAt &&
		   now - entry.expiresAt <= static_cast<int64_t>(_settings.maxStale);
}

bool PacketCache::dead(const Entry& entry, int64_t now) const
{
	return now >= entry.expiresAt && !servableStale(entry, now);
}

void PacketCache::markDirtyLocked(Shard& shard, const std::string& key)
{
	if (_overflowed.load(std::memory_order_relaxed))
		return; // the next drain resynchronises everything anyway
	shard.dirty.insert(key);
	// Each shard holds at most _perShard entries, so more dirty keys than twice that means
	// mostly keys that are gone again (a flood of unique names): stop tracking, resync instead.
	if (shard.dirty.size() > 2 * _perShard + 16)
	{
		shard.dirty.clear();
		_overflowed.store(true, std::memory_order_relaxed);
	}
}

void PacketCache::removeLocked(Shard& shard, std::list<Entry>::iterator it)
{
	shard.index.erase(std::string_view(it->key));
	markDirtyLocked(shard, it->key);
	shard.lru.erase(it);
	_entries.fetch_sub(1, std::memory_order_relaxed);
}

void PacketCache::storeLocked(Shard& shard, const std::string& key, std::vector<uint8_t>&& answer, int64_t storedAt,
							  int64_t expiresAt, uint8_t rcode, bool dirty)
{
	auto found = shard.index.find(std::string_view(key));
	if (found != shard.index.end())
	{
		Entry& entry = *found->second;
		entry.answer = std::move(answer);
		entry.storedAt = storedAt;
		entry.expiresAt = expiresAt;
		entry.rcode = rcode;
		entry.prefetchFlagged = false;
		shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
	}
	else
	{
		while (shard.lru.size() >= _perShard)
		{
			removeLocked(shard, std::prev(shard.lru.end()));
			_counters.evictions.fetch_add(1, std::memory_order_relaxed);
		}
		shard.lru.push_front(Entry{key, std::move(answer), storedAt, expiresAt, rcode, false});
		shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin());
		_entries.fetch_add(1, std::memory_order_relaxed);
	}
	if (dirty)
		markDirtyLocked(shard, key);
}

std::optional<CacheHit> PacketCache::lookup(const std::string& key, bool countStats)
{
	const int64_t now = _clock();
	Shard& shard = shardFor(key);
	CacheHit hit;
	int64_t age = 0;
	{
		std::lock_guard<std::mutex> lock(shard.mutex);
		auto found = shard.index.find(std::string_view(key));
		if (found == shard.index.end())
		{
			if (countStats)
				_counters.misses.fetch_add(1, std::memory_order_relaxed);
			return std::nullopt;
		}
		Entry& entry = *found->second;
		if (now < entry.expiresAt)
		{
			hit.fresh = true;
			// RFC-free heuristic shared with unbound's prefetch: the last 10% of the original TTL.
			if (countStats && _settings.prefetch && !entry.prefetchFlagged &&
				(entry.expiresAt - now) * 10 <= entry.expiresAt - entry.storedAt)
			{
				entry.prefetchFlagged = true;
				hit.needsPrefetch = true;
			}
		}
		else if (servableStale(entry, now))
			hit.fresh = false;
		else
		{
			removeLocked(shard, found->second);
			_counters.expired.fetch_add(1, std::memory_order_relaxed);
			if (countStats)
				_counters.misses.fetch_add(1, std::memory_order_relaxed);
			return std::nullopt;
		}
		shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
		hit.answer = entry.answer;
		age = std::max<int64_t>(0, now - entry.storedAt);
	}
	if (countStats)
	{
		(hit.fresh ? _counters.hits : _counters.misses).fetch_add(1, std::memory_order_relaxed);
		if (hit.needsPrefetch)
			_counters.prefetches.fetch_add(1, std::memory_order_relaxed);
	}
	// The stored bytes were validated at insert, so the rewrites cannot fail.
	if (hit.fresh)
		dns::ageTtls(hit.answer.data(), hit.answer.size(), static_cast<uint32_t>(std::min<int64_t>(age, UINT32_MAX)));
	else
		dns::setAllTtls(hit.answer.data(), hit.answer.size(), _settings.staleAnswerTtl); // RFC 8767 4
	return hit;
}

bool PacketCache::lookupFresh(const std::string& key, std::vector<uint8_t>& out, bool& needsPrefetch)
{
	const int64_t now = _clock();
	Shard& shard = shardFor(key);
	int64_t age = 0;
	needsPrefetch = false;
	{
		std::lock_guard<std::mutex> lock(shard.mutex);
		auto found = shard.index.find(std::string_view(key));
		if (found == shard.index.end() || now >= found->second->expiresAt)
			return false;
		Entry& entry = *found->second;
		if (_settings.prefetch && !entry.prefetchFlagged &&
			(entry.expiresAt - now) * 10 <= entry.expiresAt - entry.storedAt)
		{
			entry.prefetchFlagged = true;
			needsPrefetch = true;
		}
		shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
		out.assign(entry.answer.begin(), entry.answer.end());
		age = std::max<int64_t>(0, now - entry.storedAt);
	}
	_counters.hits.fetch_add(1, std::memory_order_relaxed);
	if (needsPrefetch)
		_counters.prefetches.fetch_add(1, std::memory_order_relaxed);
	dns::ageTtls(out.data(), out.size(), static_cast<uint32_t>(std::min<int64_t>(age, UINT32_MAX)));
	return true;
}

bool PacketCache::insert(const std::string& key, const uint8_t* answer, size_t len)
{
	dns::MessageInfo info;
	if (dns::parseMessage(answer, len, info) != dns::ParseError::NONE || !questionMatchesKey(answer, info, key))
	{
		_counters.notCached.fetch_add(1, std::memory_order_relaxed);
		return false;
	}
	std::vector<uint8_t> copy(answer, answer + len);
	if (!stripHopOptions(copy, info))
	{
		_counters.notCached.fetch_add(1, std::memory_order_relaxed);
		return false;
	}
	const TtlPolicy::Verdict verdict = _policy.admit(copy, info);
	if (verdict.kind == TtlPolicy::Kind::NOT_CACHED)
	{
		_counters.notCached.fetch_add(1, std::memory_order_relaxed);
		return false;
	}
	normalise(copy, info);
	const int64_t now = _clock();
	Shard& shard = shardFor(key);
	std::lock_guard<std::mutex> lock(shard.mutex);
	if (verdict.kind == TtlPolicy::Kind::SERVFAIL)
	{
		auto found = shard.index.find(std::string_view(key));
		if (found != shard.index.end() && !dead(*found->second, now) && found->second->rcode != dns::Rcode::SERVFAIL)
			return false;
	}
	storeLocked(shard, key, std::move(copy), now, now + verdict.ttl, info.header.rcode(), true);
	_counters.inserts.fetch_add(1, std::memory_order_relaxed);
	return true;
}

CacheChanges PacketCache::drainChanges()
{
	std::lock_guard<std::mutex> drainLock(_drainMutex);
	CacheChanges changes;
	const bool resync = _overflowed.exchange(false);
	changes.cleared = _clearedSinceDrain.exchange(false) || resync;
	for (auto& shardPtr : _shards)
	{
		Shard& shard = *shardPtr;
		std::lock_guard<std::mutex> lock(shard.mutex);
		if (resync)
		{
			shard.dirty.clear();
			for (const Entry& entry : shard.lru)
				changes.upserts.push_back(CacheRecord{entry.key, entry.answer, entry.storedAt, entry.expiresAt});
			continue;
		}
		for (const std::string& key : shard.dirty)
		{
			auto found = shard.index.find(std::string_view(key));
			if (found == shard.index.end())
				changes.erasedKeys.push_back(key);
			else
			{
				const Entry& entry = *found->second;
				changes.upserts.push_back(CacheRecord{entry.key, entry.answer, entry.storedAt, entry.expiresAt});
			}
		}
		shard.dirty.clear();
	}
	return changes;
}

void PacketCache::load(std::vector<CacheRecord>&& records, int64_t nowUnix)
{
	const int64_t staleWindow = _settings.serveStale ? static_cast<int64_t>(_settings.maxStale) : 0;
	for (CacheRecord& record : records)
	{
		dns::MessageInfo info;
		const bool usable =
			record.expiresAt > record.storedAt && nowUnix <= record.expiresAt + staleWindow &&
			(_settings.serveStale || nowUnix < record.expiresAt) && CacheKey::parse(record.key) &&
			dns::parseMessage(record.answer.data(), record.answer.size(), info) == dns::ParseError::NONE &&
			questionMatchesKey(record.answer.data(), info, record.key) && !info.header.tc() &&
			!(info.header.rcode() == dns::Rcode::SERVFAIL && nowUnix >= record.expiresAt) &&
			stripHopOptions(record.answer, info); // a file written before insert() stripped them
		if (!usable)
		{
			_counters.loadRejected.fetch_add(1, std::memory_order_relaxed);
			continue;
		}
		// Lifetimes written by another configuration still obey this one's max_ttl.
		const int64_t expiresAt =
			std::min<int64_t>(record.expiresAt, record.storedAt + static_cast<int64_t>(_settings.maxTtl));
		normalise(record.answer, info);
		Shard& shard = shardFor(record.key);
		std::lock_guard<std::mutex> lock(shard.mutex);
		storeLocked(shard, record.key, std::move(record.answer), record.storedAt, expiresAt, info.header.rcode(),
					false);
		_counters.loaded.fetch_add(1, std::memory_order_relaxed);
	}
}

std::vector<CacheRecord> PacketCache::exportAll() const
{
	std::vector<CacheRecord> records;
	records.reserve(size());
	for (const auto& shardPtr : _shards)
	{
		std::lock_guard<std::mutex> lock(shardPtr->mutex);
		for (const Entry& entry : shardPtr->lru)
			records.push_back(CacheRecord{entry.key, entry.answer, entry.storedAt, entry.expiresAt});
	}
	return records;
}

std::vector<CacheEntryView> PacketCache::find(const std::string& name, std::optional<uint16_t> type) const
{
	std::vector<CacheEntryView> views;
	const auto wire = nameFilter(name);
	if (!wire)
		return views;
	const int64_t now = _clock();
	for (const auto& shardPtr : _shards)
	{
		std::lock_guard<std::mutex> lock(shardPtr->mutex);
		for (const Entry& entry : shardPtr->lru)
		{
			if (views.size() >= FIND_LIMIT)
				return views;
			if (!keyHasName(entry.key, *wire) || dead(entry, now))
				continue;
			auto parts = CacheKey::parse(entry.key);
			if (!parts || (type && parts->qtype != *type))
				continue;
			CacheEntryView view;
			view.name =
				dns::nameToString(reinterpret_cast<const uint8_t*>(parts->nameWire.data()), parts->nameWire.size());
			view.type = parts->qtype;
			view.klass = parts->qclass;
			view.dnssecOk = parts->dnssecOk;
			view.checkingDisabled = parts->checkingDisabled;
			view.rcode = entry.rcode;
			view.ttlRemaining = entry.expiresAt - now;
			view.size = entry.answer.size();
			views.push_back(std::move(view));
		}
	}
	return views;
}

size_t PacketCache::erase(const std::string& name)
{
	const auto wire = nameFilter(name);
	if (!wire || wire->empty())
		return 0;
	size_t erased = 0;
	for (auto& shardPtr : _shards)
	{
		Shard& shard = *shardPtr;
		std::lock_guard<std::mutex> lock(shard.mutex);
		for (auto it = shard.lru.begin(); it != shard.lru.end();)
		{
			auto next = std::next(it);
			if (keyHasName(it->key, *wire))
			{
				removeLocked(shard, it);
				++erased;
			}
			it = next;
		}
	}
	return erased;
}

void PacketCache::clear()
{
	std::lock_guard<std::mutex> drainLock(_drainMutex);
	_clearedSinceDrain.store(true);
	for (auto& shardPtr : _shards)
	{
		Shard& shard = *shardPtr;
		std::lock_guard<std::mutex> lock(shard.mutex);
		_entries.fetch_sub(static_cast<int64_t>(shard.lru.size()), std::memory_order_relaxed);
		shard.index.clear();
		shard.lru.clear();
		shard.dirty.clear();
	}
}

void PacketCache::fillStats(stats::StatsSnapshot::Cache& out) const
{
	auto get = [](const std::atomic<uint64_t>& counter) { return counter.load(std::memory_order_relaxed); };
	out.enabled = true;
	out.entries = size();
	out.hits = get(_counters.hits);
	out.misses = get(_counters.misses);
	out.staleServed = get(_counters.staleServed);
	out.prefetches = get(_counters.prefetches);
	out.evictions = get(_counters.evictions);
	out.loaded = get(_counters.loaded);
}

} // namespace dnsproxy::cache
