// PrometheusView.cpp - Prometheus text exposition format 0.0.4 of a StatsSnapshot.
#include "admin/PrometheusView.h"

#include "admin/DnsNames.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace dnsproxy::admin
{

namespace
{

using Upstream = stats::StatsSnapshot::Upstream;

/// Writes one metric family: HELP and TYPE once, then its samples.
class Family
{
public:
	Family(std::ostringstream& out, const std::string& name, const char* type, const char* help):
		_out(out),
		_name("dnsproxy_" + name)
	{
		_out << "# HELP " << _name << ' ' << help << '\n' << "# TYPE " << _name << ' ' << type << '\n';
	}

	void sample(double value, const std::string& labels = std::string(), const char* suffix = "")
	{
		_out << _name << suffix;
		if (!labels.empty())
			_out << '{' << labels << '}';
		_out << ' ' << PrometheusView::formatNumber(value) << '\n';
	}

private:
	std::ostringstream& _out;
	std::string _name;
};

std::string upstreamLabels(const Upstream& u)
{
	return "upstream=\"" + PrometheusView::escapeLabel(u.address) + "\",name=\"" + PrometheusView::escapeLabel(u.name) +
		   "\"";
}

double d(uint64_t value)
{
	return static_cast<double>(value);
}

/// One family with one sample per upstream.
template <class Getter>
void perUpstream(std::ostringstream& out, const stats::StatsSnapshot& s, const std::string& name, const char* type,
				 const char* help, Getter get)
{
	Family family(out, name, type, help);
	for (const auto& u : s.upstreams)
		family.sample(get(u), upstreamLabels(u));
}

} // namespace

std::string PrometheusView::escapeLabel(const std::string& value)
{
	std::string escaped;
	escaped.reserve(value.size());
	for (char c : value)
	{
		if (c == '\\')
			escaped += "\\\\";
		else if (c == '"')
			escaped += "\\\"";
		else if (c == '\n')
			escaped += "\\n";
		else
			escaped += c;
	}
	return escaped;
}

std::string PrometheusView::formatNumber(double value)
{
	if (std::isnan(value))
		return "NaN";
	if (std::isinf(value))
		return value > 0 ? "+Inf" : "-Inf";
	if (value == std::floor(value) && std::fabs(value) < 1e15)
	{
		char buffer[32];
		std::snprintf(buffer, sizeof buffer, "%.0f", value);
		return buffer;
	}
	// Shortest of %.15g..%.17g that reads back exactly.
	char buffer[40];
	for (int precision = 15; precision <= 17; ++precision)
	{
		std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
		if (std::strtod(buffer, nullptr) == value)
			break;
	}
	return buffer;
}

std::string PrometheusView::render(const stats::StatsSnapshot& s)
{
	std::ostringstream out;

	Family(out, "uptime_seconds", "gauge", "Seconds since the proxy started.").sample(s.uptimeSeconds);
	{
		Family f(out, "queries_total", "counter", "Queries received from clients, by transport.");
		f.sample(d(s.queries.udp), "transport=\"udp\"");
		f.sample(d(s.queries.tcp), "transport=\"tcp\"");
	}
	{
		Family f(out, "answers_total", "counter", "Answers sent to clients, by response code.");
		for (unsigned rcode = 0; rcode < s.answersByRcode.size(); ++rcode)
		{
			if (rcode < 6 || s.answersByRcode[rcode] != 0)
				f.sample(d(s.answersByRcode[rcode]), "rcode=\"" + DnsNames::rcodeName(rcode) + "\"");
		}
	}

	Family(out, "cache_enabled", "gauge", "1 when the answer cache is on.").sample(s.cache.enabled ? 1 : 0);
	Family(out, "cache_entries", "gauge", "Answers in the cache now.").sample(d(s.cache.entries));
	Family(out, "cache_hits_total", "counter", "Queries answered from the cache.").sample(d(s.cache.hits));
	Family(out, "cache_misses_total", "counter", "Cache lookups that found nothing usable.").sample(d(s.cache.misses));
	Family(out, "cache_stale_served_total", "counter", "Expired answers served stale (RFC 8767).")
		.sample(d(s.cache.staleServed));
	Family(out, "cache_prefetches_total", "counter", "Entries refreshed before they expired.")
		.sample(d(s.cache.prefetches));
	Family(out, "cache_evictions_total", "counter", "Entries evicted because the cache was full.")
		.sample(d(s.cache.evictions));
	Family(out, "cache_persisted_total", "counter", "Entries written to SQLite.").sample(d(s.cache.persisted));
	Family(out, "cache_loaded_entries", "gauge", "Entries loaded from SQLite at start.").sample(d(s.cache.loaded));

	Family(out, "client_tcp_connections", "gauge", "Client TCP connections open now.")
		.sample(d(s.clients.tcpConnectionsNow));
	Family(out, "client_tcp_connections_accepted_total", "counter", "Client TCP connections accepted.")
		.sample(d(s.clients.tcpConnectionsAccepted));
	Family(out, "client_tcp_connections_refused_total", "counter", "Client TCP connections refused at the limit.")
		.sample(d(s.clients.tcpConnectionsRefused));
	Family(out, "client_tcp_idle_closed_total", "counter", "Client TCP connections closed for idleness.")
		.sample(d(s.clients.tcpIdleClosed));
	Family(out, "client_refused_total", "counter", "Queries refused because the source is not allowed.")
		.sample(d(s.clients.refusedByAcl));
	Family(out, "client_over_limit_total", "counter", "Queries refused because max_pending was reached.")
		.sample(d(s.clients.overLimit));
	Family(out, "client_malformed_total", "counter", "Queries that could not be parsed.")
		.sample(d(s.clients.malformed));
	Family(out, "client_truncated_total", "counter", "UDP answers sent truncated (TC=1).")
		.sample(d(s.clients.truncated));
	Family(out, "pending_queries", "gauge", "Queries waiting for an upstream now.").sample(d(s.clients.pending));
	Family(out, "coalesced_queries_total", "counter", "Queries that joined an identical one in flight.")
		.sample(d(s.coalesced));
	Family(out, "reloads_total", "counter", "SIGHUP reloads attempted.").sample(d(s.reload.count));
	Family(out, "reload_failures_total", "counter", "SIGHUP reloads refused; the running configuration stayed.")
		.sample(d(s.reload.failed));
	Family(out, "reload_last_timestamp_seconds", "gauge", "Unix time of the last SIGHUP reload; 0 = none yet.")
		.sample(static_cast<double>(s.reload.last));
	Family(out, "reload_last_success", "gauge", "1 when the last SIGHUP reload was applied, 0 when refused.")
		.sample(s.reload.result == "ok" || s.reload.result.empty() ? 1.0 : 0.0);

	perUpstream(out, s, "upstream_up", "gauge", "1 when the upstream is usable, 0 while it is marked down.",
				[](const Upstream& u) { return u.state == "up" ? 1.0 : 0.0; });
	perUpstream(out, s, "upstream_connections", "gauge", "TLS connections to the upstream open now.",
				[](const Upstream& u) { return d(u.connectionsNow); });
	perUpstream(out, s, "upstream_connections_opened_total", "counter", "TLS connections opened to the upstream.",
				[](const Upstream& u) { return d(u.connectionsOpened); });
	perUpstream(out, s, "upstream_connect_failures_total", "counter", "Failed connection or TLS handshake attempts.",
				[](const Upstream& u) { return d(u.connectFailures); });
	perUpstream(out, s, "upstream_tls_resumptions_total", "counter", "TLS handshakes that resumed a session.",
				[](const Upstream& u) { return d(u.tlsResumptions); });
	perUpstream(out, s, "upstream_queries_total", "counter", "Queries sent to the upstream.",
				[](const Upstream& u) { return d(u.queries); });
	perUpstream(out, s, "upstream_answers_total", "counter", "Answers received from the upstream.",
				[](const Upstream& u) { return d(u.answers); });
	perUpstream(out, s, "upstream_failures_total", "counter", "Queries lost with a failed connection.",
				[](const Upstream& u) { return d(u.failures); });
	perUpstream(out, s, "upstream_timeouts_total", "counter", "Queries the upstream did not answer in time.",
				[](const Upstream& u) { return d(u.timeouts); });
	perUpstream(out, s, "upstream_retries_total", "counter", "Queries retried on a fresh connection.",
				[](const Upstream& u) { return d(u.retries); });
	perUpstream(out, s, "upstream_bad_answers_total", "counter", "Answers that did not match a query.",
				[](const Upstream& u) { return d(u.badAnswers); });
	perUpstream(out, s, "upstream_pin_refusals_total", "counter", "TLS handshakes refused by a pin check.",
				[](const Upstream& u) { return d(u.pinRefusals); });
	perUpstream(out, s, "upstream_unauthenticated_tls_total", "counter",
				"Opportunistic profile: connections used without a verified certificate.",
				[](const Upstream& u) { return d(u.unauthenticatedTls); });
	perUpstream(out, s, "upstream_clear_text_fallbacks_total", "counter",
				"Opportunistic profile: clear-text DNS connections to port 53.",
				[](const Upstream& u) { return d(u.clearTextFallbacks); });
	perUpstream(out, s, "upstream_downgrades_refused_total", "counter",
				"Opportunistic profile: clear text refused for a server seen speaking TLS.",
				[](const Upstream& u) { return d(u.downgradesRefused); });
	perUpstream(out, s, "upstream_server_closes_total", "counter", "Connections closed by the upstream.",
				[](const Upstream& u) { return d(u.serverCloses); });
	perUpstream(out, s, "upstream_idle_closes_total", "counter", "Connections closed by us after idle_timeout_ms.",
				[](const Upstream& u) { return d(u.idleCloses); });

	{
		Family f(out, "upstream_latency_seconds", "histogram", "Time from sending a query upstream to its answer.");
		for (const auto& u : s.upstreams)
		{
			const std::string labels = upstreamLabels(u);
			uint64_t cumulative = 0;
			for (size_t i = 0; i < u.latencyBucketCounts.size(); ++i)
			{
				cumulative += u.latencyBucketCounts[i];
				const std::string le = i < u.latencyBucketBoundsMs.size()
										   ? formatNumber(u.latencyBucketBoundsMs[i] / 1000.0)
										   : std::string("+Inf");
				f.sample(d(cumulative), labels + ",le=\"" + le + "\"", "_bucket");
			}
			if (u.latencyBucketCounts.size() <= u.latencyBucketBoundsMs.size())
				f.sample(d(cumulative), labels + ",le=\"+Inf\"", "_bucket"); // the format requires a +Inf bucket
			f.sample(u.latencySumMs / 1000.0, labels, "_sum");
			f.sample(d(cumulative), labels, "_count");
		}
	}

	Family(out, "pin_changes_total", "counter", "Times a known name presented a new public key.")
		.sample(d(s.pins.changesSeen));
	Family(out, "pin_refusals_total", "counter", "Upstream connections refused by pin checks.")
		.sample(d(s.pins.refusals));
	Family(out, "pins_learned_total", "counter", "SPKI digests recorded in the pin store.").sample(d(s.pins.learned));
	Family(out, "pins_expiring_soon", "gauge", "Pinned certificates that expire soon.").sample(d(s.pins.expiringSoon));

	if (s.fleet.enabled)
	{
		Family(out, "fleet_redis_hits_total", "counter", "Local cache misses answered from the shared Redis cache.")
			.sample(d(s.fleet.hits));
		Family(out, "fleet_redis_misses_total", "counter", "Shared Redis cache lookups that found nothing usable.")
			.sample(d(s.fleet.misses));
		Family(out, "fleet_redis_errors_total", "counter", "Redis calls that failed (refused, timeout, reset).")
			.sample(d(s.fleet.errors));
		Family(out, "fleet_redis_skipped_total", "counter",
			   "Shared cache lookups not sent to Redis (breaker open, queue full, too late).")
			.sample(d(s.fleet.skipped));
		Family(out, "fleet_redis_writes_total", "counter", "Commands written to Redis.").sample(d(s.fleet.writes));
		Family(out, "fleet_redis_writes_dropped_total", "counter", "Writes to Redis given up.")
			.sample(d(s.fleet.writesDropped));
		Family(out, "fleet_breaker_open", "gauge", "1 while Redis is skipped until a background probe succeeds.")
			.sample(s.fleet.breakerOpen ? 1 : 0);
		Family(out, "fleet_breaker_opens_total", "counter", "Times the Redis circuit breaker opened.")
			.sample(d(s.fleet.breakerOpens));
		Family(out, "fleet_reconnects_total", "counter", "Times a background probe found Redis usable again.")
			.sample(d(s.fleet.reconnects));
		Family(out, "fleet_pin_channel_subscribed", "gauge", "1 while subscribed to the pin channel.")
			.sample(s.fleet.subscribed ? 1 : 0);
		Family(out, "fleet_pins_published_total", "counter", "Pin changes shared with the fleet.")
			.sample(d(s.fleet.pinsPublished));
		Family(out, "fleet_pins_applied_total", "counter", "Pin changes from other proxies applied here.")
			.sample(d(s.fleet.pinsApplied));
	}
	return out.str();
}

} // namespace dnsproxy::admin
