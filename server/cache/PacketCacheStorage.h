// PacketCacheStorage.h - PacketCache's private storage: the one-allocation entry and the shard
// (hash chains and LRU list through links inside the entries). Included only by PacketCache.cpp.
#pragma once

#include "cache/PacketCache.h"

#include <cstring>
#include <new>
#include <string_view>

namespace dnsproxy::cache
{

/// One allocation per entry: this header, then the key bytes, then the answer bytes. The shard's
/// hash chains and LRU list are links inside the entries (no separate nodes).
struct PacketCache::Entry
{
	static constexpr uint32_t NOT_DIRTY = UINT32_MAX;

	Entry* lruPrev = nullptr; ///< towards the most recently used
	Entry* lruNext = nullptr;
	Entry* chainNext = nullptr; ///< next entry in the same hash bucket
	uint32_t hash = 0;
	uint32_t storedAt = 0; ///< unix seconds (good until 2106; load() rejects what does not fit)
	uint32_t expiresAt = 0;
	uint32_t dirtySlot = NOT_DIRTY; ///< index in Shard::dirty while changed since the last drain
	uint16_t keyLength = 0;
	uint16_t restLength = 0; ///< the stored answer's bytes after its header: all but the question
	uint8_t rcode = 0;
	bool prefetchFlagged = false;

	const uint8_t* keyBytes() const
	{
		return reinterpret_cast<const uint8_t*>(this + 1);
	}
	std::string_view key() const
	{
		return {reinterpret_cast<const char*>(keyBytes()), keyLength};
	}
	/// The key without its flags byte is the answer's question section, byte for byte (insert()
	/// checks the question against the key and lower-cases it), so it is stored only once.
	size_t questionLength() const
	{
		return keyLength - 1u;
	}
	const uint8_t* header() const
	{
		return keyBytes() + keyLength;
	}
	/// Length of the whole answer (ID 0, question lower case, TTLs as at storedAt).
	size_t answerLength() const
	{
		return dns::HEADER_SIZE + questionLength() + restLength;
	}
	/// Rebuilds the whole answer into `out` (answerLength() bytes): header, question from the key,
	/// the rest. Names in the rest may point at offset 12, which holds the same name as before.
	void copyAnswer(uint8_t* out) const
	{
		std::memcpy(out, header(), dns::HEADER_SIZE);
		std::memcpy(out + dns::HEADER_SIZE, keyBytes(), questionLength());
		std::memcpy(out + dns::HEADER_SIZE + questionLength(), header() + dns::HEADER_SIZE, restLength);
	}
	void copyAnswer(std::vector<uint8_t>& out) const
	{
		out.resize(answerLength());
		copyAnswer(out.data());
	}
	std::string keyString() const
	{
		return std::string(key());
	}
	std::vector<uint8_t> answerVector() const
	{
		std::vector<uint8_t> answer;
		copyAnswer(answer);
		return answer;
	}
	CacheRecord record() const
	{
		return CacheRecord{keyString(), answerVector(), storedAt, expiresAt};
	}

	/// `answer` must be normalised and carry exactly the key's question (one, uncompressed).
	static Entry* create(uint32_t hash, std::string_view key, const uint8_t* answer, size_t length)
	{
		const size_t question = key.size() - 1;
		const size_t rest = length - dns::HEADER_SIZE - question;
		void* memory = ::operator new(sizeof(Entry) + key.size() + dns::HEADER_SIZE + rest);
		auto* entry = new (memory) Entry;
		entry->hash = hash;
		entry->keyLength = static_cast<uint16_t>(key.size());
		entry->restLength = static_cast<uint16_t>(rest);
		auto* bytes = reinterpret_cast<uint8_t*>(entry + 1);
		std::memcpy(bytes, key.data(), key.size());
		std::memcpy(bytes + key.size(), answer, dns::HEADER_SIZE);
		std::memcpy(bytes + key.size() + dns::HEADER_SIZE, answer + dns::HEADER_SIZE + question, rest);
		return entry;
	}
	static void destroy(Entry* entry)
	{
		entry->~Entry();
		::operator delete(entry);
	}
};

struct PacketCache::Shard
{
	std::mutex mutex;
	Entry* head = nullptr; ///< most recently used
	Entry* tail = nullptr; ///< least recently used: evicted first
	size_t count = 0;
	std::vector<Entry*> buckets;     ///< power-of-two size, at least `count`
	std::vector<Entry*> dirty;       ///< entries changed since the last drain (their current state is written)
	std::vector<std::string> erased; ///< keys removed since the last drain

	~Shard()
	{
		clear();
	}

	size_t bucketOf(uint32_t hash) const
	{
		// Fibonacci hashing: the high bits of the product; the shard took hash % shards.
		const unsigned bits = static_cast<unsigned>(__builtin_ctzll(buckets.size()));
		return bits == 0 ? 0 : static_cast<size_t>(static_cast<uint32_t>(hash * 0x9E3779B9u) >> (32 - bits));
	}

	Entry* find(uint32_t hash, std::string_view key) const
	{
		if (buckets.empty())
			return nullptr;
		for (Entry* entry = buckets[bucketOf(hash)]; entry != nullptr; entry = entry->chainNext)
		{
			if (entry->hash == hash && entry->key() == key)
				return entry;
		}
		return nullptr;
	}

	void link(Entry* entry)
	{
		if (count + 1 > buckets.size())
			grow();
		Entry*& bucket = buckets[bucketOf(entry->hash)];
		entry->chainNext = bucket;
		bucket = entry;
		pushFront(entry);
		++count;
	}

	void unlink(Entry* entry)
	{
		Entry** slot = &buckets[bucketOf(entry->hash)];
		while (*slot != entry)
			slot = &(*slot)->chainNext;
		*slot = entry->chainNext;
		(entry->lruPrev ? entry->lruPrev->lruNext : head) = entry->lruNext;
		(entry->lruNext ? entry->lruNext->lruPrev : tail) = entry->lruPrev;
		entry->lruPrev = entry->lruNext = entry->chainNext = nullptr;
		--count;
	}

	void pushFront(Entry* entry)
	{
		entry->lruPrev = nullptr;
		entry->lruNext = head;
		(head ? head->lruPrev : tail) = entry;
		head = entry;
	}

	void touch(Entry* entry)
	{
		if (entry == head)
			return;
		entry->lruPrev->lruNext = entry->lruNext;
		(entry->lruNext ? entry->lruNext->lruPrev : tail) = entry->lruPrev;
		pushFront(entry);
	}

	void clearDirty(Entry* entry)
	{
		if (entry->dirtySlot == Entry::NOT_DIRTY)
			return;
		Entry* last = dirty.back();
		dirty[entry->dirtySlot] = last;
		last->dirtySlot = entry->dirtySlot;
		dirty.pop_back();
		entry->dirtySlot = Entry::NOT_DIRTY;
	}

	void grow()
	{
		std::vector<Entry*> old(std::max<size_t>(64, buckets.size() * 2), nullptr);
		old.swap(buckets);
		for (Entry* chain : old)
		{
			while (chain != nullptr)
			{
				Entry* next = chain->chainNext;
				Entry*& bucket = buckets[bucketOf(chain->hash)];
				chain->chainNext = bucket;
				bucket = chain;
				chain = next;
			}
		}
	}

	void clear()
	{
		for (Entry* entry = head; entry != nullptr;)
		{
			Entry* next = entry->lruNext;
			Entry::destroy(entry);
			entry = next;
		}
		head = tail = nullptr;
		count = 0;
		std::vector<Entry*>().swap(buckets);
		dirty.clear();
		erased.clear();
	}
};

} // namespace dnsproxy::cache
