// CacheRecord.h - plain values the cache exchanges with persistence and the admin API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnsproxy::cache
{

/// One cached answer as it is persisted: the opaque cache key, the wire answer with the TTLs it
/// had when stored, and absolute times (unix seconds) so a restart can recompute remaining TTLs.
struct CacheRecord
{
	std::string key;             ///< PacketCache's binary key (lower-cased name, type, class, DO, CD)
	std::vector<uint8_t> answer; ///< wire answer as stored
	int64_t storedAt = 0;        ///< unix seconds when stored; the TTLs in `answer` count from here
	int64_t expiresAt = 0;       ///< unix seconds when the entry stops being fresh
};

/// What changed in the cache since the last drain, for write-behind persistence.
struct CacheChanges
{
	bool cleared = false;               ///< everything was flushed before the upserts below
	std::vector<CacheRecord> upserts;   ///< new or refreshed entries
	std::vector<std::string> erasedKeys; ///< entries removed (admin flush by name, eviction)
};

/// One entry as the admin API shows it.
struct CacheEntryView
{
	std::string name; ///< presentation form, lower case, trailing dot
	uint16_t type = 0;
	uint16_t klass = 1;
	bool dnssecOk = false;
	bool checkingDisabled = false;
	uint8_t rcode = 0;
	int64_t ttlRemaining = 0; ///< seconds; negative when only servable stale
	size_t size = 0;          ///< wire size of the answer
};

} // namespace dnsproxy::cache
