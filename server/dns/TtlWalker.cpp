// TtlWalker.cpp - TTL rewriting on wire-format messages, in the manner of dnsdist's ageDNSPacket().
#include "dns/TtlWalker.h"

#include "dns/Name.h"
#include "dns/RecordWalker.h"

#include <algorithm>
#include <vector>

namespace dnsproxy::dns
{

namespace
{

inline uint32_t effectiveTtl(uint32_t ttl)
{
	return (ttl & 0x80000000u) ? 0 : ttl;
}

/// TTL positions of a message, collected in one walk before anything is called or written: a
/// compression pointer may (pathologically) point into a TTL field, so writing during the walk
/// could change names that are still to be read. The first 64 fit without allocating.
class TtlSlots
{
public:
	struct Slot
	{
		size_t offset;
		uint16_t type;
		uint32_t ttl;
	};

	bool collect(const uint8_t* data, size_t len)
	{
		return walkRecords(data, len, [this](const RecordView& rr) {
			if (rr.type != Type::OPT)
				push(Slot{rr.ttlOffset(), rr.type, rr.ttl});
			return true;
		});
	}

	size_t size() const
	{
		return _count;
	}
	const Slot& operator[](size_t i) const
	{
		return i < INLINE ? _inline[i] : _overflow[i - INLINE];
	}

private:
	void push(const Slot& slot)
	{
		if (_count < INLINE)
			_inline[_count] = slot;
		else
			_overflow.push_back(slot);
		++_count;
	}

	static constexpr size_t INLINE = 64;
	Slot _inline[INLINE];
	std::vector<Slot> _overflow;
	size_t _count = 0;
};

/// Rewrites each non-OPT TTL with `change`; a message that is malformed before, or that the
/// new TTL bytes would make malformed (names pointing into TTLs), is left as it was.
template <typename Change> bool rewriteTtls(uint8_t* data, size_t len, Change&& change)
{
	TtlSlots slots;
	if (!slots.collect(data, len))
		return false;
	for (size_t i = 0; i < slots.size(); ++i)
		writeU32(data + slots[i].offset, change(effectiveTtl(slots[i].ttl)));
	if (walkRecords(data, len, [](const RecordView&) { return true; }))
		return true;
	for (size_t i = 0; i < slots.size(); ++i)
		writeU32(data + slots[i].offset, slots[i].ttl);
	return false;
}

} // namespace

bool forEachTtl(const uint8_t* data, size_t len, const std::function<void(size_t, uint16_t, uint32_t)>& fn)
{
	TtlSlots slots;
	if (!slots.collect(data, len))
		return false;
	for (size_t i = 0; i < slots.size(); ++i)
		fn(slots[i].offset, slots[i].type, slots[i].ttl);
	return true;
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
