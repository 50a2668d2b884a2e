// AdminBridge.cpp - admin/ interfaces over StatsCollector, the upstream pool and the cache.
#include "app/AdminBridge.h"

#include "app/StatsCollector.h"
#include "upstream/UpstreamClient.h"

namespace dnsproxy::app
{

AdminBridge::AdminBridge(const StatsCollector& stats, const upstream::UpstreamClient& upstreams):
	_stats(stats),
	_upstreams(upstreams)
{
}

stats::StatsSnapshot AdminBridge::snapshot() const
{
	return _stats.snapshot();
}

bool AdminBridge::healthy() const
{
	return _upstreams.healthy();
}

CacheBridge::CacheBridge(Functions functions):
	_functions(std::move(functions))
{
}

std::vector<cache::CacheEntryView> CacheBridge::find(const std::string& name, std::optional<uint16_t> type) const
{
	return _functions.find(name, type);
}

size_t CacheBridge::erase(const std::string& name)
{
	const size_t erased = _functions.erase(name);
	if (erased > 0 && _functions.flushNow)
		_functions.flushNow();
	return erased;
}

void CacheBridge::clear()
{
	_functions.clear();
	if (_functions.flushNow)
		_functions.flushNow();
}

} // namespace dnsproxy::app
