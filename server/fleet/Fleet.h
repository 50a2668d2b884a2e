// Fleet.h - several proxies, one Redis (SPEC section 4b): shared cache tier and shared pin store.
#pragma once

#include "cache/CacheSettings.h"
#include "common/WorkerThread.h"
#include "fleet/FleetContext.h"
#include "fleet/PinChannel.h"
#include "fleet/RedisWriter.h"
#include "fleet/SharedCache.h"
#include "stats/StatsSnapshot.h"

#include <memory>
#include <mutex>

namespace dnsproxy::fleet
{

class Sentinel;

struct FleetSettings
{
	RedisUrl url;
	std::string keyPrefix = "dnsproxy:";
	uint32_t timeoutMs = 50;
	std::string caFile; ///< for rediss://
	std::string secret; ///< empty: values unsigned, pins not shared
	BreakerSettings breaker;
	size_t lookupThreads = 2;
	size_t lookupQueue = 4096; ///< lookups waiting; beyond, they skip Redis
	size_t writeQueue = 10000; ///< writes waiting (also while Redis is away); beyond, dropped
};

/// Owns the fleet's parts and threads: the CircuitBreaker and its prober, the RedisWriter, the
/// SharedCache (the pipeline's second-level cache) and the PinChannel. Redis is an accelerator,
/// never a dependency: start() returns at once whatever Redis does; until the prober's first
/// successful PING (normally a few ms) everything runs on local state only.
///
/// With a Sentinel URL the prober asks the Sentinels for the master before every probe, so a
/// failover found through an error is followed; it also listens (every 100 ms) for
/// `+switch-master` and reconnects everybody to the new master as soon as one is announced.
///
/// Without a secret only answers are shared (PinChannel is not started, publish() does nothing)
/// and start() logs once that answers in Redis are trusted.
///
/// Threads: one prober, one writer, `lookupThreads` lookup threads, one subscriber; each owns
/// its Redis connection. stop() ends them all (queued lookups are answered as misses, queued
/// writes get one last attempt); call it before the pipeline and the PinManager go away.
class Fleet
{
public:
	Fleet(const FleetSettings& settings, const cache::CacheSettings& cacheSettings, PinChannel::Apply applyPin);
	~Fleet();

	void start();
	void stop();

	pipeline::SecondLevelCache& cache()
	{
		return *_cache;
	}
	/// A local pin change to share (learned, approved, forgotten); never waits.
	void publish(const PinEvent& event)
	{
		_pins->publish(event);
	}
	void fillStats(stats::StatsSnapshot::Fleet& out) const;
	const FleetContext& context() const
	{
		return _context;
	}

private:
	void probe();
	/// Listens to the Sentinels once; on +switch-master moves the target and trips the breaker.
	void followSwitch(Sentinel& sentinel);
	/// One probe on a fresh connection (the master asked first with a Sentinel URL); tells the
	/// breaker, and logs the first failure of an outage only (`reportedDown`).
	void probeOnce(RedisConnection& connection, Sentinel* sentinel, uint64_t& attempt, bool& reportedDown);

	FleetContext _context;
	std::unique_ptr<RedisWriter> _writer;
	std::unique_ptr<SharedCache> _cache;
	std::unique_ptr<PinChannel> _pins;
	std::mutex _mutex; ///< guards _started
	bool _started = false;
	common::WorkerThread _prober;
};

} // namespace dnsproxy::fleet
