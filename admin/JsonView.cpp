// JsonView.cpp - stats snapshots, pins and cache entries as JSON.
#include "admin/JsonView.h"

#include "admin/DnsNames.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Array.h>
#include <Poco/Timestamp.h>

#include <cmath>
#include <map>
#include <sstream>

namespace dnsproxy::admin
{

namespace
{

using Poco::JSON::Array;
using Poco::JSON::Object;

// Rcodes always shown, even at zero, so scripts can read them without a default.
constexpr unsigned ALWAYS_SHOWN_RCODES = 6; // NOERROR .. REFUSED

double round3(double value)
{
	return std::round(value * 1000.0) / 1000.0;
}

Object::Ptr upstream(const stats::StatsSnapshot::Upstream& u)
{
	Object::Ptr o = JsonView::object();
	o->set("address", u.address);
	o->set("name", u.name);
	o->set("state", u.state);
	o->set("connections_opened", u.connectionsOpened);
	o->set("connections_now", u.connectionsNow);
	o->set("connect_failures", u.connectFailures);
	o->set("tls_resumptions", u.tlsResumptions);
	o->set("queries", u.queries);
	o->set("answers", u.answers);
	o->set("failures", u.failures);
	o->set("timeouts", u.timeouts);
	o->set("retries", u.retries);
	o->set("bad_answers", u.badAnswers);
	o->set("transport", u.transport);
	o->set("pin_refusals", u.pinRefusals);
	o->set("unauthenticated_tls", u.unauthenticatedTls);
	o->set("clear_text_fallbacks", u.clearTextFallbacks);
	o->set("downgrades_refused", u.downgradesRefused);
	o->set("server_closes", u.serverCloses);
	o->set("idle_closes", u.idleCloses);
	o->set("learned_idle_ms", u.learnedIdleMs);
	Object::Ptr latency = JsonView::object();
	latency->set("p50", round3(u.latencyP50Ms));
	latency->set("p95", round3(u.latencyP95Ms));
	latency->set("p99", round3(u.latencyP99Ms));
	uint64_t count = 0;
	for (uint64_t c : u.latencyBucketCounts)
		count += c;
	latency->set("count", count);
	latency->set("sum", round3(u.latencySumMs));
	o->set("latency_ms", latency);
	return o;
}

/// Queries by transport and their total.
Object::Ptr queriesSection(const stats::StatsSnapshot& s)
{
	Object::Ptr queries = JsonView::object();
	queries->set("udp", s.queries.udp);
	queries->set("tcp", s.queries.tcp);
	queries->set("tls", s.queries.tls);
	queries->set("https", s.queries.https);
	queries->set("total", s.queries.udp + s.queries.tcp + s.queries.tls + s.queries.https);
	return queries;
}

/// One encrypted client transport: connections, handshakes and resumptions (DoH: HTTP versions too).
Object::Ptr encryptedTransport(const stats::StatsSnapshot::Encrypted& e, bool http)
{
	Object::Ptr o = JsonView::object();
	o->set("connections", e.connectionsNow);
	o->set("accepted", e.connectionsAccepted);
	o->set("handshakes", e.handshakes);
	o->set("resumptions", e.resumptions);
	o->set("handshake_failures", e.handshakeFailures);
	o->set("handshake_timeouts", e.handshakeTimeouts);
	o->set("rate_limited", e.rateLimited);
	if (http)
	{
		o->set("http2_connections", e.http2Connections);
		o->set("http1_connections", e.http1Connections);
		o->set("http_errors", e.httpErrors);
	}
	return o;
}

/// Answers by rcode name: NOERROR to REFUSED always, the rarer codes once they occurred.
Object::Ptr answersSection(const stats::StatsSnapshot& s)
{
	Object::Ptr answers = JsonView::object();
	for (unsigned rcode = 0; rcode < s.answersByRcode.size(); ++rcode)
	{
		if (rcode < ALWAYS_SHOWN_RCODES || s.answersByRcode[rcode] != 0)
			answers->set(DnsNames::rcodeName(rcode), s.answersByRcode[rcode]);
	}
	return answers;
}

/// The answer cache, with its hit ratio.
Object::Ptr cacheSection(const stats::StatsSnapshot& s)
{
	Object::Ptr cache = JsonView::object();
	cache->set("enabled", s.cache.enabled);
	cache->set("entries", s.cache.entries);
	cache->set("hits", s.cache.hits);
	cache->set("misses", s.cache.misses);
	const uint64_t lookups = s.cache.hits + s.cache.misses;
	cache->set("hit_ratio", lookups ? round3(static_cast<double>(s.cache.hits) / static_cast<double>(lookups)) : 0.0);
	cache->set("stale_served", s.cache.staleServed);
	cache->set("prefetches", s.cache.prefetches);
	cache->set("evictions", s.cache.evictions);
	cache->set("persisted", s.cache.persisted);
	cache->set("loaded", s.cache.loaded);
	cache->set("load_seconds", round3(s.cache.loadSeconds));
	return cache;
}

/// A counter of one snapshot section and its JSON name; a section's rows give the key order.
template <class Section> struct Counter
{
	const char* name;
	uint64_t Section::*value;
};

using Snapshot = stats::StatsSnapshot;

const Counter<Snapshot::Clients> CLIENT_COUNTERS[] = {
	{"tcp_connections", &Snapshot::Clients::tcpConnectionsNow},
	{"tcp_accepted", &Snapshot::Clients::tcpConnectionsAccepted},
	{"tcp_refused", &Snapshot::Clients::tcpConnectionsRefused},
	{"tcp_idle_closed", &Snapshot::Clients::tcpIdleClosed},
	{"refused", &Snapshot::Clients::refusedByAcl},
	{"over_limit", &Snapshot::Clients::overLimit},
	{"malformed", &Snapshot::Clients::malformed},
	{"truncated", &Snapshot::Clients::truncated},
	{"pending", &Snapshot::Clients::pending},
};

const Counter<Snapshot::Pins> PIN_COUNTERS[] = {
	{"changes_seen", &Snapshot::Pins::changesSeen},
	{"refusals", &Snapshot::Pins::refusals},
	{"learned", &Snapshot::Pins::learned},
	{"expiring_soon", &Snapshot::Pins::expiringSoon},
};

/// Before the last reload's time and result (SIGHUP, SPEC 2).
const Counter<Snapshot::Reload> RELOAD_COUNTERS[] = {
	{"count", &Snapshot::Reload::count},
	{"failed", &Snapshot::Reload::failed},
};

/// After the fleet's state (enabled, redis, breaker, subscribed).
const Counter<Snapshot::Fleet> FLEET_COUNTERS[] = {
	{"hits", &Snapshot::Fleet::hits},
	{"misses", &Snapshot::Fleet::misses},
	{"errors", &Snapshot::Fleet::errors},
	{"skipped", &Snapshot::Fleet::skipped},
	{"writes", &Snapshot::Fleet::writes},
	{"writes_dropped", &Snapshot::Fleet::writesDropped},
	{"breaker_opens", &Snapshot::Fleet::breakerOpens},
	{"reconnects", &Snapshot::Fleet::reconnects},
	{"pins_published", &Snapshot::Fleet::pinsPublished},
	{"pins_applied", &Snapshot::Fleet::pinsApplied},
	{"bad_messages", &Snapshot::Fleet::badMessages},
	{"rejected", &Snapshot::Fleet::rejected},
};

template <class Section, size_t N>
Object::Ptr setAll(Object::Ptr object, const Section& section, const Counter<Section> (&counters)[N])
{
	for (const auto& counter : counters)
		object->set(counter.name, section.*counter.value);
	return object;
}

/// The shared Redis tier; "breaker" is "off" without one.
Object::Ptr fleetSection(const Snapshot::Fleet& fleet)
{
	Object::Ptr o = JsonView::object();
	o->set("enabled", fleet.enabled);
	o->set("redis", fleet.redis);
	o->set("breaker", fleet.enabled ? (fleet.breakerOpen ? "open" : "closed") : "off");
	o->set("subscribed", fleet.subscribed);
	return setAll(o, fleet, FLEET_COUNTERS);
}

} // namespace

Object::Ptr JsonView::object()
{
	return new Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

std::string JsonView::toString(const Object::Ptr& object)
{
	std::ostringstream out;
	object->stringify(out, 2);
	out << '\n';
	return out.str();
}

std::string JsonView::isoTime(int64_t unixSeconds)
{
	if (unixSeconds == 0)
		return std::string();
	return Poco::DateTimeFormatter::format(Poco::Timestamp::fromEpochTime(static_cast<std::time_t>(unixSeconds)),
										   "%Y-%m-%dT%H:%M:%SZ");
}

Object::Ptr JsonView::error(const std::string& message)
{
	Object::Ptr o = object();
	o->set("error", message);
	return o;
}

Object::Ptr JsonView::stats(const stats::StatsSnapshot& s)
{
	Object::Ptr root = object();
	root->set("version", std::string(DNSPROXY_VERSION));
	root->set("uptime_seconds", round3(s.uptimeSeconds));
	root->set("queries", queriesSection(s));
	Object::Ptr encrypted = JsonView::object();
	encrypted->set("tls", encryptedTransport(s.tls, false));
	encrypted->set("https", encryptedTransport(s.https, true));
	root->set("encrypted", encrypted);
	root->set("answers", answersSection(s));
	root->set("cache", cacheSection(s));
	Array::Ptr upstreams = new Array;
	for (const auto& u : s.upstreams)
		upstreams->add(upstream(u));
	root->set("upstreams", upstreams);
	root->set("coalesced", s.coalesced);
	root->set("clients", setAll(object(), s.clients, CLIENT_COUNTERS));
	root->set("pins", setAll(object(), s.pins, PIN_COUNTERS));
	Object::Ptr reload = setAll(object(), s.reload, RELOAD_COUNTERS);
	reload->set("last", s.reload.last);
	reload->set("result", s.reload.result);
	root->set("reload", reload);
	root->set("fleet", fleetSection(s.fleet));
	return root;
}

Object::Ptr JsonView::pins(const std::vector<PinRecord>& records)
{
	// Grouped by auth-name in first-appearance order, as the store listed them.
	std::vector<std::string> order;
	std::map<std::string, Array::Ptr> digests;
	for (const auto& r : records)
	{
		auto it = digests.find(r.name);
		if (it == digests.end())
		{
			order.push_back(r.name);
			it = digests.emplace(r.name, new Array).first;
		}
		Object::Ptr d = object();
		d->set("sha256", r.sha256);
		d->set("source", r.source);
		d->set("first_seen", isoTime(r.firstSeen));
		d->set("last_seen", isoTime(r.lastSeen));
		d->set("count", r.count);
		d->set("not_after", isoTime(r.notAfter));
		it->second->add(d);
	}
	Array::Ptr names = new Array;
	for (const auto& name : order)
	{
		Object::Ptr n = object();
		n->set("name", name);
		n->set("digests", digests[name]);
		names->add(n);
	}
	Object::Ptr root = object();
	root->set("pins", names);
	return root;
}

Object::Ptr JsonView::cacheEntries(const std::string& name, const std::vector<cache::CacheEntryView>& entries)
{
	Array::Ptr list = new Array;
	for (const auto& e : entries)
	{
		Object::Ptr o = object();
		o->set("name", e.name);
		o->set("type", DnsNames::typeName(e.type));
		o->set("class", DnsNames::className(e.klass));
		o->set("rcode", DnsNames::rcodeName(e.rcode));
		o->set("ttl_remaining", e.ttlRemaining);
		o->set("stale", e.ttlRemaining < 0);
		o->set("dnssec_ok", e.dnssecOk);
		o->set("checking_disabled", e.checkingDisabled);
		o->set("size", static_cast<uint64_t>(e.size));
		list->add(o);
	}
	Object::Ptr root = object();
	root->set("name", name);
	root->set("entries", list);
	return root;
}

} // namespace dnsproxy::admin
