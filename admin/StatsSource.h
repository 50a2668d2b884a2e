// StatsSource.h - how the admin API reads the counters: one StatsSnapshot per request.
#pragma once

#include "stats/StatsSnapshot.h"

namespace dnsproxy::admin
{

/// Implemented by app/ (AdminBridge over StatsCollector). snapshot() is called from admin
/// worker threads at any rate, so it must read atomics only and never block the DNS hot path.
class StatsSource
{
public:
	virtual ~StatsSource() = default;
	virtual stats::StatsSnapshot snapshot() const = 0;
};

} // namespace dnsproxy::admin
