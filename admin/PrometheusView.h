// PrometheusView.h - renders a StatsSnapshot in the Prometheus text exposition format 0.0.4.
#pragma once

#include "stats/StatsSnapshot.h"

#include <string>

namespace dnsproxy::admin
{

/// Every metric is named dnsproxy_*, has # HELP and # TYPE lines, counters end in _total, and
/// per-upstream series carry upstream="IP:port" and name="auth-name" labels. Upstream latency is
/// a histogram in seconds (dnsproxy_upstream_latency_seconds_bucket{le=...}, cumulative, with
/// _sum and _count). Pure function of the snapshot, so /metrics and /stats agree exactly when
/// rendered from one snapshot.
class PrometheusView
{
public:
	static constexpr const char* CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

	static std::string render(const stats::StatsSnapshot& snapshot);
	/// Escapes backslash, double quote and newline for a label value.
	static std::string escapeLabel(const std::string& value);
	/// Shortest text that reads back as the same double ("0.5", "1e-05", "+Inf").
	static std::string formatNumber(double value);
};

} // namespace dnsproxy::admin
