// SourceShares.h - per-source counters of queries waiting for upstreams (each source's share of maxPending).
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dnsproxy::pipeline
{

/// Keeps one client source from taking all of maxPending (SPEC 4, "No client takes more than
/// its share"), as dnsdist's per-client limits do.
///
/// The rule: a source may have at most share() = max(1, maxPending / 4) queries waiting for an
/// upstream at once; one more is over its share and refused like a query over maxPending. A
/// source is an IPv4 address (an IPv4-mapped IPv6 address counts as the IPv4 address it carries)
/// or an IPv6 /64 (one host usually owns a whole /64). So a single flooding source leaves at
/// least three quarters of maxPending to everyone else.
///
/// Cost and memory: O(1) per query, a fixed table of SLOTS counters (16 KiB), no allocation and
/// no lock. A source is hashed (with a per-process random key, so nobody can aim a collision at
/// a chosen client) to one slot; sources that collide share that slot's counter, so in the rare
/// case of a collision with a flooding source a client is limited together with it. With SLOTS
/// = 4096 that is about one source in 4096.
///
/// Threading: acquire() and release() from any thread (relaxed atomics).
class SourceShares
{
public:
	static constexpr size_t SLOTS = 4096;
	static constexpr int NONE = -1;

	explicit SourceShares(uint32_t maxPending);

	/// The slot of a client address (AF_INET or AF_INET6); NONE for other families.
	int slotOf(const sockaddr* peer) const;

	/// Counts one more waiting query for the slot's source; false (and nothing counted) when
	/// the source already has share() waiting. NONE always succeeds.
	bool acquire(int slot);
	/// Ends one waiting query counted by a successful acquire().
	void release(int slot);

	uint32_t share() const
	{
		return _share;
	}
	/// Queries waiting for the slot's source (tests).
	uint32_t waiting(int slot) const;

private:
	uint32_t _share;
	uint64_t _key; ///< random per process: which sources share a slot cannot be predicted
	std::array<std::atomic<uint32_t>, SLOTS> _waiting{};
};

} // namespace dnsproxy::pipeline
