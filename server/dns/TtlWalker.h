// TtlWalker.h - visit and rewrite every RR TTL of a message in place (ageing, clamping, stale answers, RFC 2308).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

namespace dnsproxy::dns
{

/// Calls fn(ttlOffset, type, ttlValue) for each RR of the answer, authority and additional
/// sections, never for OPT (whose "TTL" carries EDNS flags, RFC 6891 6.1.3). The whole message is
/// walked before the first call, so fn is never called for a malformed message (result false)
/// and may write the TTL it is given.
bool forEachTtl(const uint8_t* data, size_t len, const std::function<void(size_t, uint16_t, uint32_t)>& fn);

// The helpers below treat a TTL with the top bit set as 0 (RFC 2181 8) and change nothing
// when they return false: when the message is malformed, or (crafted messages only) when a name
// points into a TTL field and the new value would make the message malformed.

/// Subtracts `seconds` from every TTL, floor 0.
bool ageTtls(uint8_t* data, size_t len, uint32_t seconds);
/// Clamps every TTL to minTtl..maxTtl (maxTtl wins if minTtl > maxTtl).
bool clampTtls(uint8_t* data, size_t len, uint32_t minTtl, uint32_t maxTtl);
/// Sets every TTL to `ttl` (RFC 8767 stale answers).
bool setAllTtls(uint8_t* data, size_t len, uint32_t ttl);
/// Smallest TTL of answer+authority+additional (no OPT); nullopt if there is none or the message is malformed.
std::optional<uint32_t> minimumTtl(const uint8_t* data, size_t len);
/// RFC 2308 5: min(SOA TTL, SOA MINIMUM) of the first SOA in the authority section; nullopt if none or malformed.
std::optional<uint32_t> negativeTtl(const uint8_t* data, size_t len);

} // namespace dnsproxy::dns
