// TtlWalker.cpp - TTL rewriting on wire-format messages, in the manner of dnsdist's ageDNSPacket().
#include "dns/TtlWalker.h"

#include "dns/Name.h"
#include "dns/RecordWalker.h"

#include <algorithm>

namespace dnsproxy::dns
{

namespace
{

inline uint32_t effectiveTtl(uint32_t ttl)
{
	return (ttl & 0x80000000u) ? 0 : ttl;
}

bool isValid(const uint8_t* data, size_t len)
{
	return walkRecords(data, len, [](const RecordView&) { return true; });
}

/// Validates first, then rewrites each non-OPT TTL with `change`, so a malformed message is left untouched.
template <typename Change> bool rewriteTtls(uint8_t* data, size_t len, Change&& change)
{
	if (!isValid(data, len))
		return false;
	return walkRecords(data, len, [&](const RecordView& rr) {
		if (rr.type != Type::OPT)
			writeU32(data + rr.ttlOffset(), change(effectiveTtl(rr.ttl)));
		return true;
	});
}

} // namespace

bool forEachTtl(const uint8_t* data, size_t len, const std::function<void(size_t, uint16_t, uint32_t)>& fn)
{
	if (!isValid(data, len))
		return false;
	return walkRecords(data, len, [&](const RecordView& rr) {
		if (rr.type != Type::OPT)
			fn(rr.ttlOffset(), rr.type, rr.ttl);
		return true;
	});
}

bool ageTtls(uint8_t* data, size_t len, uint32_t seconds)
{
	return rewriteTtls(data, len, [seconds](uint32_t ttl) { return ttl > seconds ? ttl - seconds : 0u; });
}

bool clampTtls(uint8_t* data, size_t len, uint32_t minTtl, uint32_t maxTtl)
{
	return rewriteTtls(data, len, [minTtl, maxTtl](uint32_t ttl) { return std::min(std::max(ttl, minTtl), maxTtl); });
}

bool setAllTtls(uint8_t* data, size_t len, uint32_t ttl)
{
	return rewriteTtls(data, len, [ttl](uint32_t) { return ttl; });
}

std::optional<uint32_t> minimumTtl(const uint8_t* data, size_t len)
{
	std::optional<uint32_t> minimum;
	const bool ok = walkRecords(data, len, [&](const RecordView& rr) {
		if (rr.type != Type::OPT)
			minimum = std::min(minimum.value_or(UINT32_MAX), effectiveTtl(rr.ttl));
		return true;
	});
	return ok ? minimum : std::nullopt;
}

std::optional<uint32_t> negativeTtl(const uint8_t* data, size_t len)
{
	std::optional<uint32_t> result;
	bool soaMalformed = false;
	const bool ok = walkRecords(data, len, [&](const RecordView& rr) {
		if (rr.section != 2 || rr.type != Type::SOA || result)
			return true;
		// RDATA: MNAME, RNAME (possibly compressed), then SERIAL REFRESH RETRY EXPIRE MINIMUM.
		size_t pos = rr.rdataOffset;
		if (readName(data, len, pos) != ParseError::NONE || readName(data, len, pos) != ParseError::NONE ||
			pos > rr.end() || rr.end() - pos != 20)
		{
			soaMalformed = true;
			return false;
		}
		result = std::min(effectiveTtl(rr.ttl), effectiveTtl(readU32(data + pos + 16)));
		return true;
	});
	if (!ok || soaMalformed)
		return std::nullopt;
	return result;
}

} // namespace dnsproxy::dns
