// AdminTestData.h - a StatsSnapshot with known figures and fake admin sources, for the admin
// unit tests and AdminServerTest.
#pragma once

#include "admin/CacheControl.h"
#include "admin/HealthSource.h"
#include "admin/PinAdmin.h"
#include "admin/StatsSource.h"

#include <stdexcept>

namespace dnsproxy::test
{

/// Two upstreams, a few rcodes, cache and pin figures; every number distinct so a swapped field shows.
inline stats::StatsSnapshot sampleSnapshot()
{
	stats::StatsSnapshot s;
	s.uptimeSeconds = 12.5;
	s.queries.udp = 70;
	s.queries.tcp = 30;
	s.answersByRcode[0] = 80;
	s.answersByRcode[2] = 5;
	s.answersByRcode[3] = 15;
	s.answersByRcode[9] = 1;
	s.clients.tcpConnectionsNow = 3;
	s.clients.refusedByAcl = 4;
	s.cache.enabled = true;
	s.cache.entries = 42;
	s.cache.hits = 60;
	s.cache.misses = 40;
	s.cache.staleServed = 2;
	s.cache.prefetches = 6;
	s.cache.persisted = 7;
	stats::StatsSnapshot::Upstream a;
	a.address = "1.1.1.1:853";
	a.name = "cloudflare-dns.com";
	a.state = "up";
	a.connectionsOpened = 2;
	a.tlsResumptions = 1;
	a.queries = 40;
	a.failures = 1;
	a.timeouts = 3;
	a.latencyP50Ms = 1.5;
	a.latencyP95Ms = 4.25;
	a.latencyP99Ms = 9;
	a.latencyBucketBoundsMs = {1, 2, 5};
	a.latencyBucketCounts = {10, 20, 5, 1}; // last = +Inf
	a.latencySumMs = 123.5;
	stats::StatsSnapshot::Upstream b;
	b.address = "9.9.9.9:853";
	b.name = "dns.\"quad9\".net"; // quotes must be escaped in labels
	b.state = "down";
	b.latencyBucketBoundsMs = {1, 2, 5};
	b.latencyBucketCounts = {0, 0, 0, 0};
	s.upstreams = {a, b};
	s.pins.changesSeen = 8;
	s.pins.refusals = 9;
	return s;
}

class FakeStats: public admin::StatsSource, public admin::HealthSource
{
public:
	stats::StatsSnapshot snapshot() const override
	{
		if (throwOnSnapshot)
			throw std::runtime_error("snapshot exploded");
		return value;
	}
	bool healthy() const override
	{
		return up;
	}

	stats::StatsSnapshot value = sampleSnapshot();
	bool up = true;
	bool throwOnSnapshot = false;
};

class FakeCache: public admin::CacheControl
{
public:
	std::vector<cache::CacheEntryView> find(const std::string& name, std::optional<uint16_t> type) const override
	{
		lastFindName = name;
		lastFindType = type;
		return entries;
	}
	size_t erase(const std::string& name) override
	{
		erased.push_back(name);
		return 2;
	}
	void clear() override
	{
		++clears;
	}

	std::vector<cache::CacheEntryView> entries;
	mutable std::string lastFindName;
	mutable std::optional<uint16_t> lastFindType;
	std::vector<std::string> erased;
	int clears = 0;
};

class FakePins: public admin::PinAdmin
{
public:
	std::vector<admin::PinRecord> list(const std::optional<std::string>& name) const override
	{
		std::vector<admin::PinRecord> out;
		for (const auto& r : records)
		{
			if (!name || r.name == *name)
				out.push_back(r);
		}
		return out;
	}
	void approve(const std::string& name, const std::string& sha256, int64_t now) override
	{
		records.push_back({name, sha256, "approved", now, now, 0, 0});
	}
	size_t forget(const std::string& name) override
	{
		forgotten.push_back(name);
		return 1;
	}

	std::vector<admin::PinRecord> records;
	std::vector<std::string> forgotten;
};

} // namespace dnsproxy::test
