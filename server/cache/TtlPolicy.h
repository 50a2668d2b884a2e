// TtlPolicy.h - which answers the cache keeps and for how long (min/max clamps, RFC 2308 negative TTLs, SERVFAIL).
#pragma once

#include "cache/CacheSettings.h"
#include "dns/Message.h"

#include <cstdint>
#include <vector>

namespace dnsproxy::cache
{

/// Stateless; safe from any thread.
///
/// - NOERROR with answer records: every TTL clamped to minTtl..maxTtl; the entry lives for the
///   smallest TTL of the message (OPT excluded).
/// - NXDOMAIN, and NODATA (NOERROR without answer records): RFC 2308 5, min(SOA TTL, SOA MINIMUM)
///   of the authority SOA, capped by negativeTtl. Without an SOA the answer is not cached at all
///   (RFC 2308 5: such answers SHOULD NOT be cached).
/// - SERVFAIL: servfail_ttl (5 s); RFC 2308 7.1 allows up to 5 minutes, we keep it short.
/// - TC=1, other rcodes (also EDNS extended ones), malformed answers and a TTL of 0: not cached.
/// For negative and SERVFAIL answers every TTL in the stored copy is capped to the entry's
/// lifetime, so no record counts down past the moment the entry expires.
class TtlPolicy
{
public:
	enum class Kind
	{
		NOT_CACHED,
		POSITIVE,
		NEGATIVE,
		SERVFAIL
	};

	struct Verdict
	{
		Kind kind = Kind::NOT_CACHED;
		uint32_t ttl = 0; ///< seconds the entry is fresh
	};

	explicit TtlPolicy(const CacheSettings& settings);

	/// Decides for a parsed answer and rewrites its TTLs in place as described above; the answer
	/// is left unchanged when the verdict is NOT_CACHED.
	Verdict admit(std::vector<uint8_t>& answer, const dns::MessageInfo& info) const;

private:
	uint32_t _minTtl, _maxTtl, _negativeTtl, _servfailTtl;
};

} // namespace dnsproxy::cache
