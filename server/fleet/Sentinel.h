// Sentinel.h - asks Redis Sentinels where the master is, and hears when it moves (+switch-master).
#pragma once

#include "fleet/RedisConnection.h"
#include "fleet/RedisTarget.h"

#include <optional>

namespace dnsproxy::fleet
{

/// For a redis+sentinel:// URL. resolve() asks the Sentinels in order, each bounded by
/// timeoutMs, `SENTINEL get-master-addr-by-name <master>` and records the first answer in the
/// target; all failing throws a RedisException naming every Sentinel and its error. watch() keeps
/// one subscription to `+switch-master` on the first Sentinel that accepts it and, polled by the
/// prober every 100 ms, returns the new master when a failover of our master was
/// announced (it PINGs and reads up to the PONG, as PinChannel does, so it never blocks longer
/// than timeoutMs).
///
/// Threading: owned and used by the fleet's prober thread only.
class Sentinel
{
public:
	Sentinel(RedisTarget& target, uint32_t timeoutMs);

	RedisEndpoint resolve();
	/// The master announced by +switch-master since the last call, if any. Never throws.
	std::optional<RedisEndpoint> watch();
	void stopWatching();

private:
	RedisTarget& _target;
	RedisConnection _ask;
	RedisConnection _subscription;
	size_t _next = 0; ///< Sentinel to subscribe to next (round robin over failures)
};

} // namespace dnsproxy::fleet
