// PacketCache.cpp - sharded LRU packet cache: lookup with TTL ageing, insert, persistence and admin views.
#include "cache/PacketCache.h"

#include "cache/PacketCacheStorage.h"

#include "dns/Constants.h"
#include "dns/Edns.h"
#include "dns/Header.h"
#include "dns/Name.h"
#include "dns/TtlWalker.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string_view>

namespace dnsproxy::cache
{

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
	// The entry copies the bytes into an allocation of its exact size.
	answer = std::move(*stripped);
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

bool keyHasName(std::string_view key, const std::vector<uint8_t>& wire)
{
	return wire.empty() ||
		   (key.size() == wire.size() + CacheKey::SUFFIX && std::memcmp(key.data(), wire.data(), wire.size()) == 0);
}

} // namespace

PacketCache::PacketCache(const CacheSettings& settings, stats::UnixClock clock):
	_settings(settings),
	_clock(stats::orSystemClock(std::move(clock)))
{
	setTtlPolicy(settings);
	const size_t maxEntries = std::max<size_t>(1, _settings.maxEntries);
	const size_t shards = maxEntries < 1024 ? 1 : std::max<size_t>(1, _settings.shards);
	// Floor division: the sum of the shard limits never exceeds maxEntries.
	_perShard = std::max<size_t>(1, maxEntries / shards);
	for (size_t i = 0; i < shards; ++i)
		_shards.push_back(std::make_unique<Shard>());
}

void PacketCache::setTtlPolicy(const CacheSettings& settings)
{
	std::lock_guard<std::mutex> lock(_policyMutex);
	_policies.push_back(std::make_unique<TtlPolicy>(settings));
	_policy.store(_policies.back().get(), std::memory_order_release);
}

PacketCache::~PacketCache() = default;

uint32_t PacketCache::hashKey(std::string_view key)
{
	const uint64_t hash = std::hash<std::string_view>{}(key);
	return static_cast<uint32_t>(hash ^ (hash >> 32));
}

PacketCache::Shard& PacketCache::shardFor(uint32_t hash) const
{
	return *_shards[hash % _shards.size()];
}

bool PacketCache::servableStale(const Entry& entry, int64_t now) const
{
	return _settings.serveStale && entry.rcode != dns::Rcode::SERVFAIL && now >= entry.expiresAt &&
		   now - entry.expiresAt <= static_cast<int64_t>(_settings.maxStale);
}

bool PacketCache::claimPrefetch(Entry& entry, int64_t now) const
{
	// RFC-free heuristic shared with unbound's prefetch: the last 10% of the original TTL, once
	// per stored answer.
	if (!_settings.prefetch || entry.prefetchFlagged ||
		(entry.expiresAt - now) * 10 > static_cast<int64_t>(entry.expiresAt - entry.storedAt))
		return false;
	entry.prefetchFlagged = true;
	return true;
}

bool PacketCache::dead(const Entry& entry, int64_t now) const
{
	return now >= entry.expiresAt && !servableStale(entry, now);
}

void PacketCache::markDirtyLocked(Shard& shard, Entry* entry)
{
	if (entry->dirtySlot != Entry::NOT_DIRTY || _overflowed.load(std::memory_order_relaxed))
		return; // already listed, or the next drain resynchronises everything anyway
	entry->dirtySlot = static_cast<uint32_t>(shard.dirty.size());
	shard.dirty.push_back(entry);
	_pendingChanges.fetch_add(1, std::memory_order_relaxed);
}

void PacketCache::removeLocked(Shard& shard, Entry* entry)
{
	shard.unlink(entry);
	shard.clearDirty(entry);
	if (!_overflowed.load(std::memory_order_relaxed))
	{
		shard.erased.push_back(entry->keyString());
		_pendingChanges.fetch_add(1, std::memory_order_relaxed);
		// Each shard holds at most _perShard entries, so more removed keys than twice that means a
		// flood of unique names: stop tracking, the next drain resynchronises everything instead.
		if (shard.erased.size() > 2 * _perShard + 16)
		{
			std::vector<std::string>().swap(shard.erased);
			_overflowed.store(true, std::memory_order_relaxed);
		}
	}
	Entry::destroy(entry);
	_entries.fetch_sub(1, std::memory_order_relaxed);
}

void PacketCache::storeLocked(Shard& shard, uint32_t hash, std::string_view key, const uint8_t* answer, size_t length,
							  int64_t storedAt, int64_t expiresAt, uint8_t rcode, bool dirty)
{
	Entry* entry = Entry::create(hash, key, answer, length);
	entry->storedAt = static_cast<uint32_t>(std::clamp<int64_t>(storedAt, 0, UINT32_MAX));
	entry->expiresAt = static_cast<uint32_t>(std::clamp<int64_t>(expiresAt, 0, UINT32_MAX));
	entry->rcode = rcode;
	if (Entry* old = shard.find(hash, key))
	{
		// A replacement, not a removal: the key stays, so nothing goes to `erased`.
		dirty = dirty || old->dirtySlot != Entry::NOT_DIRTY;
		shard.unlink(old);
		shard.clearDirty(old);
		Entry::destroy(old);
		_entries.fetch_sub(1, std::memory_order_relaxed);
	}
	else
	{
		while (shard.count >= _perShard)
		{
			removeLocked(shard, shard.tail);
			_counters.evictions.fetch_add(1, std::memory_order_relaxed);
		}
	}
	shard.link(entry);
	_entries.fetch_add(1, std::memory_order_relaxed);
	if (dirty)
		markDirtyLocked(shard, entry);
}

std::optional<CacheHit> PacketCache::lookup(const std::string& key, bool countStats)
{
	const int64_t now = _clock();
	const uint32_t hash = hashKey(key);
	Shard& shard = shardFor(hash);
	CacheHit hit;
	int64_t age = 0;
	{
		std::lock_guard<std::mutex> lock(shard.mutex);
		Entry* entry = shard.find(hash, key);
		if (entry == nullptr)
		{
			if (countStats)
				_counters.misses.fetch_add(1, std::memory_order_relaxed);
			return std::nullopt;
		}
		if (now < entry->expiresAt)
		{
			hit.fresh = true;
			hit.needsPrefetch = countStats && claimPrefetch(*entry, now);
		}
		else if (servableStale(*entry, now))
			hit.fresh = false;
		else
		{
			removeLocked(shard, entry);
			_counters.expired.fetch_add(1, std::memory_order_relaxed);
			if (countStats)
				_counters.misses.fetch_add(1, std::memory_order_relaxed);
			return std::nullopt;
		}
		shard.touch(entry);
		entry->copyAnswer(hit.answer);
		age = std::max<int64_t>(0, now - entry->storedAt);
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

PacketCache::Probe PacketCache::probe(const std::string& key, std::vector<uint8_t>& out, bool& needsPrefetch)
{
	const int64_t now = _clock();
	const uint32_t hash = hashKey(key);
	Shard& shard = shardFor(hash);
	int64_t age = 0;
	needsPrefetch = false;
	{
		std::lock_guard<std::mutex> lock(shard.mutex);
		Entry* entry = shard.find(hash, key);
		if (entry == nullptr || now >= entry->expiresAt)
		{
			Probe result = Probe::MISS;
			if (entry != nullptr && servableStale(*entry, now))
				result = Probe::STALE;
			else if (entry != nullptr)
			{
				removeLocked(shard, entry);
				_counters.expired.fetch_add(1, std::memory_order_relaxed);
			}
			_counters.misses.fetch_add(1, std::memory_order_relaxed);
			return result;
		}
		needsPrefetch = claimPrefetch(*entry, now);
		shard.touch(entry);
		entry->copyAnswer(out);
		age = std::max<int64_t>(0, now - entry->storedAt);
	}
	_counters.hits.fetch_add(1, std::memory_order_relaxed);
	if (needsPrefetch)
		_counters.prefetches.fetch_add(1, std::memory_order_relaxed);
	dns::ageTtls(out.data(), out.size(), static_cast<uint32_t>(std::min<int64_t>(age, UINT32_MAX)));
	return Probe::FRESH;
}

bool PacketCache::insert(const std::string& key, const uint8_t* answer, size_t len)
{
	dns::MessageInfo info;
	if (len > UINT16_MAX || key.size() > UINT16_MAX || dns::parseMessage(answer, len, info) != dns::ParseError::NONE ||
		!questionMatchesKey(answer, info, key))
	{
		_counters.notCached.fetch_add(1, std::memory_order_relaxed);
		return false;
	}
	// One scratch buffer per thread: the entry gets its own exact-size copy below.
	thread_local std::vector<uint8_t> copy;
	copy.assign(answer, answer + len);
	if (!stripHopOptions(copy, info))
	{
		_counters.notCached.fetch_add(1, std::memory_order_relaxed);
		return false;
	}
	const TtlPolicy::Verdict verdict = _policy.load(std::memory_order_acquire)->admit(copy, info);
	if (verdict.kind == TtlPolicy::Kind::NOT_CACHED)
	{
		_counters.notCached.fetch_add(1, std::memory_order_relaxed);
		return false;
	}
	normalise(copy, info);
	const int64_t now = _clock();
	const uint32_t hash = hashKey(key);
	Shard& shard = shardFor(hash);
	std::lock_guard<std::mutex> lock(shard.mutex);
	if (verdict.kind == TtlPolicy::Kind::SERVFAIL)
	{
		const Entry* found = shard.find(hash, key);
		if (found != nullptr && !dead(*found, now) && found->rcode != dns::Rcode::SERVFAIL)
			return false;
	}
	storeLocked(shard, hash, key, copy.data(), copy.size(), now, now + verdict.ttl, info.header.rcode(), true);
	_counters.inserts.fetch_add(1, std::memory_order_relaxed);
	return true;
}

CacheChanges PacketCache::drainChanges()
{
	std::lock_guard<std::mutex> drainLock(_drainMutex);
	CacheChanges changes;
	const bool resync = _overflowed.exchange(false);
	changes.cleared = _clearedSinceDrain.exchange(false) || resync;
	_pendingChanges.store(0, std::memory_order_relaxed);
	for (auto& shardPtr : _shards)
	{
		Shard& shard = *shardPtr;
		std::lock_guard<std::mutex> lock(shard.mutex);
		if (resync)
		{
			std::vector<std::string>().swap(shard.erased);
			for (Entry* entry : shard.dirty)
				entry->dirtySlot = Entry::NOT_DIRTY;
			shard.dirty.clear();
			for (const Entry* entry = shard.head; entry != nullptr; entry = entry->lruNext)
				changes.upserts.push_back(entry->record());
			continue;
		}
		for (std::string& key : shard.erased)
			changes.erasedKeys.push_back(std::move(key));
		shard.erased.clear();
		for (Entry* entry : shard.dirty)
		{
			entry->dirtySlot = Entry::NOT_DIRTY;
			changes.upserts.push_back(entry->record());
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
			record.expiresAt > record.storedAt && record.storedAt >= 0 && record.expiresAt <= UINT32_MAX &&
			nowUnix <= record.expiresAt + staleWindow && (_settings.serveStale || nowUnix < record.expiresAt) &&
			record.answer.size() <= UINT16_MAX && record.key.size() <= UINT16_MAX && CacheKey::parse(record.key) &&
			dns::parseMessage(record.answer.data(), record.answer.size(), info) == dns::ParseError::NONE &&
			questionMatchesKey(record.answer.data(), info, record.key) && !info.header.tc() &&
			!(info.header.rcode() == dns::Rcode::SERVFAIL && nowUnix >= record.expiresAt) &&
			stripHopOptions(record.answer, info); // a file written before insert() stripped them
		if (!usable)
		{
			_counters.loadRejected.fetch_add(1, std::memory_order_relaxed);
			continue;
		}
		// Lifetimes written by another configuration still obey this one's maxTtl.
		const int64_t expiresAt =
			std::min<int64_t>(record.expiresAt, record.storedAt + static_cast<int64_t>(_settings.maxTtl));
		normalise(record.answer, info);
		const uint32_t hash = hashKey(record.key);
		Shard& shard = shardFor(hash);
		{
			std::lock_guard<std::mutex> lock(shard.mutex);
			storeLocked(shard, hash, record.key, record.answer.data(), record.answer.size(), record.storedAt, expiresAt,
						info.header.rcode(), false);
		}
		// The entry has its own copy now: give the record's memory back as we go, so a large load
		// does not hold two copies of the cache at its peak.
		std::string().swap(record.key);
		std::vector<uint8_t>().swap(record.answer);
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
		for (const Entry* entry = shardPtr->head; entry != nullptr; entry = entry->lruNext)
			records.push_back(entry->record());
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
		for (const Entry* entry = shardPtr->head; entry != nullptr; entry = entry->lruNext)
		{
			if (views.size() >= FIND_LIMIT)
				return views;
			if (!keyHasName(entry->key(), *wire) || dead(*entry, now))
				continue;
			auto parts = CacheKey::parse(entry->keyString());
			if (!parts || (type && parts->qtype != *type))
				continue;
			CacheEntryView view;
			view.name =
				dns::nameToString(reinterpret_cast<const uint8_t*>(parts->nameWire.data()), parts->nameWire.size());
			view.type = parts->qtype;
			view.klass = parts->qclass;
			view.dnssecOk = parts->dnssecOk;
			view.checkingDisabled = parts->checkingDisabled;
			view.rcode = entry->rcode;
			view.ttlRemaining = entry->expiresAt - now;
			view.size = entry->answerLength();
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
		for (Entry* entry = shard.head; entry != nullptr;)
		{
			Entry* next = entry->lruNext;
			if (keyHasName(entry->key(), *wire))
			{
				removeLocked(shard, entry);
				++erased;
			}
			entry = next;
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
		_entries.fetch_sub(static_cast<int64_t>(shard.count), std::memory_order_relaxed);
		shard.clear();
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
