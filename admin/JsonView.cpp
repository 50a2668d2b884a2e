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

	Object::Ptr queries = object();
	queries->set("udp", s.queries.udp);
	queries->set("tcp", s.queries.tcp);
	queries->set("total", s.queries.udp + s.queries.tcp);
	root->set("queries", queries);

	Object::Ptr answers = object();
	for (unsigned rcode = 0; rcode < s.answersByRcode.size(); ++rcode)
	{
		if (rcode < ALWAYS_SHOWN_RCODES || s.answersByRcode[rcode] != 0)
			answers->set(DnsNames::rcodeName(rcode), s.answersByRcode[rcode]);
	}
	root->set("answers", answers);

	Object::Ptr cache = object();
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
	root->set("cache", cache);

	Array::Ptr upstreams = new Array;
	for (const auto& u : s.upstreams)
		upstreams->add(upstream(u));
	root->set("upstreams", upstreams);
	root->set("coalesced", s.coalesced);

	Object::Ptr clients = object();
	clients->set("tcp_connections", s.clients.tcpConnectionsNow);
	clients->set("tcp_accepted", s.clients.tcpConnectionsAccepted);
	clients->set("tcp_refused", s.clients.tcpConnectionsRefused);
	clients->set("tcp_idle_closed", s.clients.tcpIdleClosed);
	clients->set("refused", s.clients.refusedByAcl);
	clients->set("over_limit", s.clients.overLimit);
	clients->set("malformed", s.clients.malformed);
	clients->set("truncated", s.clients.truncated);
	clients->set("pending", s.clients.pending);
	root->set("clients", clients);

	Object::Ptr pins = object();
	pins->set("changes_seen", s.pins.changesSeen);
	pins->set("refusals", s.pins.refusals);
	pins->set("learned", s.pins.learned);
	pins->set("expiring_soon", s.pins.expiringSoon);
	root->set("pins", pins);

	Object::Ptr reload = object();
	reload->set("count", s.reload.count);
	reload->set("failed", s.reload.failed);
	reload->set("last", s.reload.last);
	reload->set("result", s.reload.result);
	root->set("reload", reload);

	Object::Ptr fleet = object();
	fleet->set("enabled", s.fleet.enabled);
	fleet->set("redis", s.fleet.redis);
	fleet->set("breaker", s.fleet.enabled ? (s.fleet.breakerOpen ? "open" : "closed") : "off");
	fleet->set("subscribed", s.fleet.subscribed);
	fleet->set("hits", s.fleet.hits);
	fleet->set("misses", s.fleet.misses);
	fleet->set("errors", s.fleet.errors);
	fleet->set("skipped", s.fleet.skipped);
	fleet->set("writes", s.fleet.writes);
	fleet->set("writes_dropped", s.fleet.writesDropped);
	fleet->set("breaker_opens", s.fleet.breakerOpens);
	fleet->set("reconnects", s.fleet.reconnects);
	fleet->set("pins_published", s.fleet.pinsPublished);
	fleet->set("pins_applied", s.fleet.pinsApplied);
	fleet->set("bad_messages", s.fleet.badMessages);
	root->set("fleet", fleet);
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
