// SourceShares.cpp - hashing client sources to share counters.
#include "pipeline/SourceShares.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace dnsproxy::pipeline
{

namespace
{

/// splitmix64's finaliser: every input bit moves every output bit.
uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

} // namespace

SourceShares::SourceShares(uint32_t maxPending):
	_share(std::max<uint32_t>(1, maxPending / 4)),
	_key((uint64_t(std::random_device{}()) << 32) ^ std::random_device{}())
{
}

int SourceShares::slotOf(const sockaddr* peer) const
{
	uint64_t source = 0;
	if (peer->sa_family == AF_INET)
	{
		uint32_t v4;
		std::memcpy(&v4, &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, 4);
		source = v4;
	}
	else if (peer->sa_family == AF_INET6)
	{
		const uint8_t* a6 = reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr.s6_addr;
		static const uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (std::memcmp(a6, MAPPED, 12) == 0)
		{
			uint32_t v4;
			std::memcpy(&v4, a6 + 12, 4);
			source = v4;
		}
		else
		{
			// The /64: the upper half of the address. The top bit marks IPv6 so that a /64 and an
			// IPv4 address never map to the same source before hashing.
			std::memcpy(&source, a6, 8);
			source = mix(source) | (uint64_t(1) << 63);
		}
	}
	else
		return NONE;
	return static_cast<int>(mix(source ^ _key) % SLOTS);
}

bool SourceShares::acquire(int slot)
{
	if (slot == NONE)
		return true;
	auto& waiting = _waiting[static_cast<size_t>(slot)];
	if (waiting.fetch_add(1, std::memory_order_relaxed) >= _share)
	{
		waiting.fetch_sub(1, std::memory_order_relaxed);
		return false;
	}
	return true;
}

void SourceShares::release(int slot)
{
	if (slot != NONE)
		_waiting[static_cast<size_t>(slot)].fetch_sub(1, std::memory_order_relaxed);
}

uint32_t SourceShares::waiting(int slot) const
{
	return slot == NONE ? 0 : _waiting[static_cast<size_t>(slot)].load(std::memory_order_relaxed);
}

} // namespace dnsproxy::pipeline
