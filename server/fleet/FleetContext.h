// FleetContext.h - what every fleet thread shares: the Redis address, key layout, breaker, counters.
#pragma once

#include "fleet/CircuitBreaker.h"
#include "fleet/Envelope.h"
#include "fleet/KeyLayout.h"
#include "fleet/RedisTarget.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace dnsproxy::fleet
{

/// Relaxed atomic counters; /stats and /metrics show them.
struct FleetCounters
{
	std::atomic<uint64_t> hits{0};          ///< lookups answered from Redis
	std::atomic<uint64_t> misses{0};        ///< lookups Redis had nothing (usable) for
	std::atomic<uint64_t> errors{0};        ///< Redis calls that failed (refused, timeout, reset, protocol)
	std::atomic<uint64_t> skipped{0};       ///< lookups not sent: breaker open, queue full or waited too long
	std::atomic<uint64_t> writes{0};        ///< commands written (cache SETs, pin updates, publishes)
	std::atomic<uint64_t> writesDropped{0}; ///< writes given up: queue full, or a cache write that failed
	std::atomic<uint64_t> reconnects{0};    ///< times a probe found Redis usable again (breaker closed)
	std::atomic<uint64_t> pinsPublished{0};
	std::atomic<uint64_t> pinsApplied{0}; ///< pin events from other proxies (channel or resync) applied
	std::atomic<uint64_t> badMessages{0}; ///< channel messages or values that did not parse
	std::atomic<uint64_t> rejected{0};    ///< values and pin events ignored: unsigned, bad MAC, expired, replayed
};

/// Threading: the members are either immutable after construction or thread-safe themselves.
struct FleetContext
{
	using WallClock = std::function<int64_t()>; ///< milliseconds since the epoch

	/// `caFile` is for rediss:// (throws Poco::Exception when it cannot be read); an empty
	/// `secret` leaves values unsigned and pins unshared; a null clock is the system clock.
	FleetContext(RedisUrl url, uint32_t timeoutMs, const std::string& keyPrefix, const BreakerSettings& breaker,
				 std::string origin, const std::string& caFile = {}, std::string secret = {},
				 WallClock clock = nullptr);

	/// Counts a failed Redis call and opens the breaker; logs once per outage, not per call.
	void failed(const char* what, const Poco::Exception& e);
	/// Counts a value or event ignored by the signature check; logs the first one only.
	void rejected(const std::string& what, Envelope::Verdict verdict);
	int64_t nowMs() const
	{
		return wallClock();
	}

	RedisTarget target;
	const uint32_t timeoutMs;
	const Envelope envelope;
	const WallClock wallClock;
	const KeyLayout keys;
	const std::string origin; ///< this proxy's id on the pin channel
	CircuitBreaker breaker;
	FleetCounters counters;
	Poco::Logger& logger;
};

} // namespace dnsproxy::fleet
