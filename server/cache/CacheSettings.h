// CacheSettings.h - the packet cache's own settings; in-class defaults equal SPEC section 3 [cache].
#pragma once

#include <cstddef>
#include <cstdint>

namespace dnsproxy::cache
{

/// Plain struct like dnsdist's DNSDistPacketCache::CacheSettings. app/'s CacheConfig extends it
/// (cache/ never includes app/). TTLs and ages are seconds.
struct CacheSettings
{
	size_t maxEntries = 100000;
	uint32_t minTtl = 0;
	uint32_t maxTtl = 86400;
	uint32_t negativeTtl = 900; ///< cap for NXDOMAIN/NODATA (RFC 2308 5)
	uint32_t servfailTtl = 5;   ///< SERVFAIL is cached at most this long (SPEC section 4)
	bool serveStale = true;     ///< RFC 8767
	uint32_t staleAnswerTtl = 30;
	uint32_t maxStale = 86400; ///< seconds past expiry an entry may still be served stale
	bool prefetch = true;      ///< flag hits in the last 10% of the TTL for a background refresh
	size_t shards = 16;        ///< caches with fewer than 1024 entries use one shard (exact LRU)
};

} // namespace dnsproxy::cache
