// FleetContext.cpp - failure accounting shared by the fleet threads.
#include "fleet/FleetContext.h"

#include <chrono>

namespace dnsproxy::fleet
{

namespace
{

int64_t systemMs()
{
	return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
		.count();
}

} // namespace

FleetContext::FleetContext(RedisUrl url_, uint32_t timeoutMs_, const std::string& keyPrefix,
						   const BreakerSettings& breakerSettings, std::string origin_, const std::string& caFile,
						   std::string secret, WallClock clock):
	target(std::move(url_), caFile),
	timeoutMs(timeoutMs_),
	envelope(std::move(secret)),
	wallClock(clock ? std::move(clock) : WallClock(systemMs)),
	keys(keyPrefix),
	origin(std::move(origin_)),
	breaker(breakerSettings),
	logger(Poco::Logger::get("dnsproxy.fleet"))
{
}

void FleetContext::failed(const char* what, const Poco::Exception& e)
{
	counters.errors.fetch_add(1, std::memory_order_relaxed);
	if (breaker.recordFailure())
		logger.warning("redis %s: %s failed (%s); skipping Redis until it answers again, DNS goes on with "
					   "local state",
					   target.describe(), std::string(what), e.displayText());
}

void FleetContext::rejected(const std::string& what, Envelope::Verdict verdict)
{
	// Someone else writes to Redis: say so once, count every one.
	if (counters.rejected.fetch_add(1, std::memory_order_relaxed) == 0)
		logger.warning("redis %s: ignored %s (%s); such values and pin events are counted in fleet.rejected",
					   target.describe(), what, std::string(Envelope::verdictName(verdict)));
}

} // namespace dnsproxy::fleet
