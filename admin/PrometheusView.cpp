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

/// One metric family with a single sample per snapshot (or per upstream): its name without the
/// "dnsproxy_" prefix, its type and help, and where its value is.
template <class From> struct Metric
{
	const char* name;
	const char* type;
	const char* help;
	double (*value)(const From&);
};

using Snapshot = stats::StatsSnapshot;

/// After the query and answer counts, in this order.
const Metric<Snapshot> CACHE_AND_CLIENTS[] = {
	{"cache_enabled", "gauge", "1 when the answer cache is on.",
	 [](const Snapshot& s) { return s.cache.enabled ? 1.0 : 0.0; }},
	{"cache_entries", "gauge", "Answers in the cache now.", [](const Snapshot& s) { return d(s.cache.entries); }},
	{"cache_hits_total", "counter", "Queries answered from the cache.",
	 [](const Snapshot& s) { return d(s.cache.hits); }},
	{"cache_misses_total", "counter", "Cache lookups that found nothing usable.",
	 [](const Snapshot& s) { return d(s.cache.misses); }},
	{"cache_stale_served_total", "counter", "Expired answers served stale (RFC 8767).",
	 [](const Snapshot& s) { return d(s.cache.staleServed); }},
	{"cache_prefetches_total", "counter", "Entries refreshed before they expired.",
	 [](const Snapshot& s) { return d(s.cache.prefetches); }},
	{"cache_evictions_total", "counter", "Entries evicted because the cache was full.",
	 [](const Snapshot& s) { return d(s.cache.evictions); }},
	{"cache_persisted_total", "counter", "Entries written to SQLite.",
	 [](const Snapshot& s) { return d(s.cache.persisted); }},
	{"cache_loaded_entries", "gauge", "Entries loaded from SQLite at start.",
	 [](const Snapshot& s) { return d(s.cache.loaded); }},
	{"client_tcp_connections", "gauge", "Client TCP connections open now.",
	 [](const Snapshot& s) { return d(s.clients.tcpConnectionsNow); }},
	{"client_tcp_connections_accepted_total", "counter", "Client TCP connections accepted.",
	 [](const Snapshot& s) { return d(s.clients.tcpConnectionsAccepted); }},
	{"client_tcp_connections_refused_total", "counter", "Client TCP connections refused at the limit.",
	 [](const Snapshot& s) { return d(s.clients.tcpConnectionsRefused); }},
	{"client_tcp_idle_closed_total", "counter", "Client TCP connections closed for idleness.",
	 [](const Snapshot& s) { return d(s.clients.tcpIdleClosed); }},
	{"client_refused_total", "counter", "Queries refused because the source is not allowed.",
	 [](const Snapshot& s) { return d(s.clients.refusedByAcl); }},
	{"client_over_limit_total", "counter", "Queries refused because the limit of pending queries was reached.",
	 [](const Snapshot& s) { return d(s.clients.overLimit); }},
	{"client_malformed_total", "counter", "Queries that could not be parsed.",
	 [](const Snapshot& s) { return d(s.clients.malformed); }},
	{"client_truncated_total", "counter", "UDP answers sent truncated (TC=1).",
	 [](const Snapshot& s) { return d(s.clients.truncated); }},
	{"pending_queries", "gauge", "Queries waiting for an upstream now.",
	 [](const Snapshot& s) { return d(s.clients.pending); }},
	{"coalesced_queries_total", "counter", "Queries that joined an identical one in flight.",
	 [](const Snapshot& s) { return d(s.coalesced); }},
	{"reloads_total", "counter", "SIGHUP reloads attempted.", [](const Snapshot& s) { return d(s.reload.count); }},
	{"reload_failures_total", "counter", "SIGHUP reloads refused; the running configuration stayed.",
	 [](const Snapshot& s) { return d(s.reload.failed); }},
	{"reload_last_timestamp_seconds", "gauge", "Unix time of the last SIGHUP reload; 0 = none yet.",
	 [](const Snapshot& s) { return static_cast<double>(s.reload.last); }},
	{"reload_last_success", "gauge", "1 when the last SIGHUP reload was applied (or none was tried), 0 when refused.",
	 [](const Snapshot& s) { return s.reload.result == "ok" || s.reload.result.empty() ? 1.0 : 0.0; }},
};

/// One sample per upstream, labelled upstream="IP:port" and name="auth-name".
const Metric<Upstream> PER_UPSTREAM[] = {
	{"upstream_up", "gauge", "1 when the upstream is usable, 0 while it is marked down.",
	 [](const Upstream& u) { return u.state == "up" ? 1.0 : 0.0; }},
	{"upstream_connections", "gauge", "TLS connections to the upstream open now.",
	 [](const Upstream& u) { return d(u.connectionsNow); }},
	{"upstream_connections_opened_total", "counter", "TLS connections opened to the upstream.",
	 [](const Upstream& u) { return d(u.connectionsOpened); }},
	{"upstream_connect_failures_total", "counter", "Failed connection or TLS handshake attempts.",
	 [](const Upstream& u) { return d(u.connectFailures); }},
	{"upstream_tls_resumptions_total", "counter", "TLS handshakes that resumed a session.",
	 [](const Upstream& u) { return d(u.tlsResumptions); }},
	{"upstream_queries_total", "counter", "Queries sent to the upstream.",
	 [](const Upstream& u) { return d(u.queries); }},
	{"upstream_answers_total", "counter", "Answers received from the upstream.",
	 [](const Upstream& u) { return d(u.answers); }},
	{"upstream_failures_total", "counter", "Queries lost with a failed connection.",
	 [](const Upstream& u) { return d(u.failures); }},
	{"upstream_timeouts_total", "counter", "Queries the upstream did not answer in time.",
	 [](const Upstream& u) { return d(u.timeouts); }},
	{"upstream_retries_total", "counter", "Queries retried on a fresh connection.",
	 [](const Upstream& u) { return d(u.retries); }},
	{"upstream_bad_answers_total", "counter", "Answers that did not match a query.",
	 [](const Upstream& u) { return d(u.badAnswers); }},
	{"upstream_pin_refusals_total", "counter", "TLS handshakes refused by a pin check.",
	 [](const Upstream& u) { return d(u.pinRefusals); }},
	{"upstream_unauthenticated_tls_total", "counter",
	 "Opportunistic profile: connections used without a verified certificate.",
	 [](const Upstream& u) { return d(u.unauthenticatedTls); }},
	{"upstream_clear_text_fallbacks_total", "counter", "Opportunistic profile: clear-text DNS connections to port 53.",
	 [](const Upstream& u) { return d(u.clearTextFallbacks); }},
	{"upstream_downgrades_refused_total", "counter",
	 "Opportunistic profile: clear text refused for a server seen speaking TLS.",
	 [](const Upstream& u) { return d(u.downgradesRefused); }},
	{"upstream_server_closes_total", "counter", "Connections closed by the upstream.",
	 [](const Upstream& u) { return d(u.serverCloses); }},
	{"upstream_idle_closes_total", "counter", "Connections closed by us after the upstream idle timeout.",
	 [](const Upstream& u) { return d(u.idleCloses); }},
};

/// After the upstream latency histogram.
const Metric<Snapshot> PINS[] = {
	{"pin_changes_total", "counter", "Times a known name presented a new public key.",
	 [](const Snapshot& s) { return d(s.pins.changesSeen); }},
	{"pin_refusals_total", "counter", "Upstream connections refused by pin checks.",
	 [](const Snapshot& s) { return d(s.pins.refusals); }},
	{"pins_learned_total", "counter", "SPKI digests recorded in the pin store.",
	 [](const Snapshot& s) { return d(s.pins.learned); }},
	{"pins_expiring_soon", "gauge", "Pinned certificates that expire soon.",
	 [](const Snapshot& s) { return d(s.pins.expiringSoon); }},
};

/// Only when the shared Redis tier is on.
const Metric<Snapshot> FLEET[] = {
	{"fleet_redis_hits_total", "counter", "Local cache misses answered from the shared Redis cache.",
	 [](const Snapshot& s) { return d(s.fleet.hits); }},
	{"fleet_redis_misses_total", "counter", "Shared Redis cache lookups that found nothing usable.",
	 [](const Snapshot& s) { return d(s.fleet.misses); }},
	{"fleet_redis_errors_total", "counter", "Redis calls that failed (refused, timeout, reset).",
	 [](const Snapshot& s) { return d(s.fleet.errors); }},
	{"fleet_redis_skipped_total", "counter",
	 "Shared cache lookups not sent to Redis (breaker open, queue full, too late).",
	 [](const Snapshot& s) { return d(s.fleet.skipped); }},
	{"fleet_redis_writes_total", "counter", "Commands written to Redis.",
	 [](const Snapshot& s) { return d(s.fleet.writes); }},
	{"fleet_redis_writes_dropped_total", "counter", "Writes to Redis given up.",
	 [](const Snapshot& s) { return d(s.fleet.writesDropped); }},
	{"fleet_breaker_open", "gauge", "1 while Redis is skipped until a background probe succeeds.",
	 [](const Snapshot& s) { return s.fleet.breakerOpen ? 1.0 : 0.0; }},
	{"fleet_breaker_opens_total", "counter", "Times the Redis circuit breaker opened.",
	 [](const Snapshot& s) { return d(s.fleet.breakerOpens); }},
	{"fleet_reconnects_total", "counter", "Times a background probe found Redis usable again.",
	 [](const Snapshot& s) { return d(s.fleet.reconnects); }},
	{"fleet_pin_channel_subscribed", "gauge", "1 while subscribed to the pin channel.",
	 [](const Snapshot& s) { return s.fleet.subscribed ? 1.0 : 0.0; }},
	{"fleet_pins_published_total", "counter", "Pin changes shared with the fleet.",
	 [](const Snapshot& s) { return d(s.fleet.pinsPublished); }},
	{"fleet_pins_applied_total", "counter", "Pin changes from other proxies applied here.",
	 [](const Snapshot& s) { return d(s.fleet.pinsApplied); }},
	{"fleet_rejected_total", "counter",
	 "Values and pin events from Redis ignored: unsigned, bad signature, expired or replayed.",
	 [](const Snapshot& s) { return d(s.fleet.rejected); }},
};

template <class From, size_t N>
void writeAll(std::ostringstream& out, const Metric<From> (&metrics)[N], const From& from)
{
	for (const auto& metric : metrics)
		Family(out, metric.name, metric.type, metric.help).sample(metric.value(from));
}

void writeQueries(std::ostringstream& out, const Snapshot& s)
{
	Family f(out, "queries_total", "counter", "Queries received from clients, by transport.");
	f.sample(d(s.queries.udp), "transport=\"udp\"");
	f.sample(d(s.queries.tcp), "transport=\"tcp\"");
	f.sample(d(s.queries.tls), "transport=\"tls\"");
	f.sample(d(s.queries.https), "transport=\"https\"");
}

/// Per encrypted transport (tls = DoT, https = DoH): connections, handshakes, resumptions.
const Metric<Snapshot::Encrypted> PER_ENCRYPTED[] = {
	{"client_encrypted_connections", "gauge", "Client DoT/DoH connections open now.",
	 [](const Snapshot::Encrypted& e) { return d(e.connectionsNow); }},
	{"client_encrypted_connections_accepted_total", "counter", "Client DoT/DoH connections accepted.",
	 [](const Snapshot::Encrypted& e) { return d(e.connectionsAccepted); }},
	{"client_tls_handshakes_total", "counter", "Client TLS handshakes completed.",
	 [](const Snapshot::Encrypted& e) { return d(e.handshakes); }},
	{"client_tls_resumptions_total", "counter", "Client TLS handshakes that resumed a session.",
	 [](const Snapshot::Encrypted& e) { return d(e.resumptions); }},
	{"client_tls_handshake_failures_total", "counter", "Client TLS handshakes that failed.",
	 [](const Snapshot::Encrypted& e) { return d(e.handshakeFailures); }},
	{"client_tls_handshake_timeouts_total", "counter", "Client TLS handshakes cut at the handshake timeout.",
	 [](const Snapshot::Encrypted& e) { return d(e.handshakeTimeouts); }},
	{"client_tls_rate_limited_total", "counter", "Client connections closed: the source's handshake rate was spent.",
	 [](const Snapshot::Encrypted& e) { return d(e.rateLimited); }},
};

void writeEncrypted(std::ostringstream& out, const Snapshot& s)
{
	for (const auto& metric : PER_ENCRYPTED)
	{
		Family family(out, metric.name, metric.type, metric.help);
		family.sample(metric.value(s.tls), "transport=\"tls\"");
		family.sample(metric.value(s.https), "transport=\"https\"");
	}
}

/// NOERROR to REFUSED always, the rarer codes once they occurred.
void writeAnswers(std::ostringstream& out, const Snapshot& s)
{
	Family f(out, "answers_total", "counter", "Answers sent to clients, by response code.");
	for (unsigned rcode = 0; rcode < s.answersByRcode.size(); ++rcode)
	{
		if (rcode < 6 || s.answersByRcode[rcode] != 0)
			f.sample(d(s.answersByRcode[rcode]), "rcode=\"" + DnsNames::rcodeName(rcode) + "\"");
	}
}

void writeUpstreams(std::ostringstream& out, const Snapshot& s)
{
	for (const auto& metric : PER_UPSTREAM)
	{
		Family family(out, metric.name, metric.type, metric.help);
		for (const auto& u : s.upstreams)
			family.sample(metric.value(u), upstreamLabels(u));
	}
}

/// Cumulative buckets in seconds, always ending with le="+Inf" as the format requires.
void writeLatency(std::ostringstream& out, const Snapshot& s)
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
									   ? PrometheusView::formatNumber(u.latencyBucketBoundsMs[i] / 1000.0)
									   : std::string("+Inf");
			f.sample(d(cumulative), labels + ",le=\"" + le + "\"", "_bucket");
		}
		if (u.latencyBucketCounts.size() <= u.latencyBucketBoundsMs.size())
			f.sample(d(cumulative), labels + ",le=\"+Inf\"", "_bucket");
		f.sample(u.latencySumMs / 1000.0, labels, "_sum");
		f.sample(d(cumulative), labels, "_count");
	}
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
	writeQueries(out, s);
	writeEncrypted(out, s);
	writeAnswers(out, s);
	writeAll(out, CACHE_AND_CLIENTS, s);
	writeUpstreams(out, s);
	writeLatency(out, s);
	writeAll(out, PINS, s);
	if (s.fleet.enabled)
		writeAll(out, FLEET, s);
	return out.str();
}

} // namespace dnsproxy::admin
