// AdminBridge.h - adapts the product objects (stats, upstream pool, cache) to admin/'s interfaces.
// (The pin store reaches admin/ through PinManager, which implements admin::PinAdmin itself.)
#pragma once

#include "admin/CacheControl.h"
#include "admin/HealthSource.h"
#include "admin/StatsSource.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::upstream
{
class UpstreamClient;
}

namespace dnsproxy::app
{

class StatsCollector;

/// StatsSource and HealthSource over StatsCollector and the upstream pool. Both only read atomics.
/// Threading: any thread; the referenced objects must outlive the admin server.
class AdminBridge: public admin::StatsSource, public admin::HealthSource
{
public:
	AdminBridge(const StatsCollector& stats, const upstream::UpstreamClient& upstreams);

	stats::StatsSnapshot snapshot() const override;
	bool healthy() const override;

private:
	const StatsCollector& _stats;
	const upstream::UpstreamClient& _upstreams;
};

/// CacheControl over the packet cache. Built from functions so the admin side never depends on
/// PacketCache's header; `over()` binds them to any cache with PacketCache's find/erase/clear.
/// `flushNow` (optional, from persistence) writes the change to SQLite at once, so that
/// DELETE /cache empties the database too instead of waiting for the next flush interval.
class CacheBridge: public admin::CacheControl
{
public:
	struct Functions
	{
		std::function<std::vector<cache::CacheEntryView>(const std::string&, std::optional<uint16_t>)> find;
		std::function<size_t(const std::string&)> erase;
		std::function<void()> clear;
		std::function<void()> flushNow; ///< may be empty
	};

	explicit CacheBridge(Functions functions);

	template <class Cache> static std::unique_ptr<CacheBridge> over(Cache& cache, std::function<void()> flushNow = {})
	{
		Functions f;
		f.find = [&cache](const std::string& name, std::optional<uint16_t> type) { return cache.find(name, type); };
		f.erase = [&cache](const std::string& name) { return static_cast<size_t>(cache.erase(name)); };
		f.clear = [&cache] { cache.clear(); };
		f.flushNow = std::move(flushNow);
		return std::make_unique<CacheBridge>(std::move(f));
	}

	std::vector<cache::CacheEntryView> find(const std::string& name, std::optional<uint16_t> type) const override;
	size_t erase(const std::string& name) override;
	void clear() override;

private:
	Functions _functions;
};

} // namespace dnsproxy::app
