// fuzz_ttl_walk.cpp - fuzzes the TTL walker: visiting, ageing, clamping and the minimum/negative TTL helpers.
#include "FuzzCheck.h"
#include "dns/TtlWalker.h"

#include <algorithm>
#include <cstdint>
#include <vector>

using namespace dnsproxy::dns;
using dnsproxy::fuzz::check;

namespace
{

std::vector<uint32_t> ttls(const std::vector<uint8_t>& msg, bool& ok)
{
	std::vector<uint32_t> values;
	ok = forEachTtl(msg.data(), msg.size(), [&](size_t offset, uint16_t, uint32_t ttl) {
		check(offset + 4 <= msg.size(), "ttl offset in bounds");
		values.push_back(ttl);
	});
	return values;
}

uint32_t effective(uint32_t ttl)
{
	return (ttl & 0x80000000u) ? 0 : ttl;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	const dnsproxy::fuzz::CostGuard costGuard;
	const std::vector<uint8_t> original(data, data + size);
	bool ok = false;
	const auto before = ttls(original, ok);
	// Vary the amounts with the input without consuming it: the ID bytes.
	const uint32_t age = size >= 2 ? uint32_t(data[0]) * 97 + data[1] : 60;

	// A rewrite succeeds only on a message that walks; a refused one changes nothing. (On a message
	// that walks a rewrite may still refuse, when a crafted name points into a TTL field.)
	std::vector<uint8_t> aged = original;
	const bool agedOk = ageTtls(aged.data(), aged.size(), age);
	std::vector<uint8_t> clamped = original;
	const bool clampedOk = clampTtls(clamped.data(), clamped.size(), 30, 3600);
	std::vector<uint8_t> stale = original;
	const bool staleOk = setAllTtls(stale.data(), stale.size(), 30);
	check(ok || !(agedOk || clampedOk || staleOk), "no rewrite of a malformed message");
	check(agedOk || aged == original, "refused ageing changes nothing");
	check(clampedOk || clamped == original, "refused clamping changes nothing");
	check(staleOk || stale == original, "refused stale TTLs change nothing");
	const auto minimum = minimumTtl(original.data(), original.size());
	negativeTtl(original.data(), original.size());

	if (!ok)
	{
		check(!minimum.has_value(), "no minimum for malformed input");
		return 0;
	}
	if (before.empty())
	{
		check(!minimum.has_value(), "no minimum without records");
	}
	else
	{
		uint32_t smallest = UINT32_MAX;
		for (const uint32_t ttl : before)
			smallest = std::min(smallest, effective(ttl));
		check(minimum == smallest, "minimumTtl is the smallest TTL");
	}
	if (!agedOk || !clampedOk || !staleOk)
		return 0;
	bool stillOk = false;
	const auto afterAge = ttls(aged, stillOk);
	check(stillOk && afterAge.size() == before.size(), "aged message still walks");
	for (size_t i = 0; i < before.size(); ++i)
	{
		const uint32_t expected = effective(before[i]) > age ? effective(before[i]) - age : 0;
		check(afterAge[i] == expected, "aged by the given seconds, floor 0");
	}
	const auto afterClamp = ttls(clamped, stillOk);
	for (const uint32_t ttl : afterClamp)
		check(ttl >= 30 && ttl <= 3600, "clamped into range");
	for (const uint32_t ttl : ttls(stale, stillOk))
		check(ttl == 30, "stale TTL set");
	return 0;
}
