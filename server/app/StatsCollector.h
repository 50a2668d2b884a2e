// StatsCollector.h - gathers the counters of every component into one StatsSnapshot.
#pragma once

#include "stats/Stats.h"
#include "stats/StatsSnapshot.h"

#include <chrono>
#include <functional>
#include <vector>

namespace dnsproxy::upstream
{
class UpstreamPool;
}

namespace dnsproxy::app
{

/// Reads atomics only, so the admin API can call snapshot() at any rate without touching the DNS
/// hot path. Components that are optional (cache, pins) register a filler function.
/// Threading: snapshot() from any thread; addFiller() only during wiring, before serving.
class StatsCollector
{
public:
	using Filler = std::function<void(stats::StatsSnapshot&)>;

	StatsCollector(const stats::FrontendStats& frontend, const upstream::UpstreamPool& pool,
				   std::function<uint64_t()> pending);

	void addFiller(Filler filler);
	stats::StatsSnapshot snapshot() const;

private:
	const stats::FrontendStats& _frontend;
	const upstream::UpstreamPool& _pool;
	std::function<uint64_t()> _pending;
	std::vector<Filler> _fillers;
	std::chrono::steady_clock::time_point _started;
};

} // namespace dnsproxy::app
