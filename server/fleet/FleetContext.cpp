// FleetContext.cpp - failure accounting shared by the fleet threads.
#include "fleet/FleetContext.h"

namespace dnsproxy::fleet
{

FleetContext::FleetContext(RedisUrl url_, uint32_t timeoutMs_, const std::string& keyPrefix,
						   const BreakerSettings& breakerSettings, std::string origin_):
	url(std::move(url_)),
	timeoutMs(timeoutMs_),
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
					   url.hostAndPort(), std::string(what), e.displayText());
}

} // namespace dnsproxy::fleet
