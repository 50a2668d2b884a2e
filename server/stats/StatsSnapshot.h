// StatsSnapshot.h - a plain copy of every counter at one moment, for /stats and /metrics.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dnsproxy::stats
{

/// Value type: taking one reads atomics only (never a lock on the DNS hot path); the admin API
/// renders it as JSON or Prometheus text. Sections whose component is off stay zero.
struct StatsSnapshot
{
	double uptimeSeconds = 0;

	struct Queries
	{
		uint64_t udp = 0;
		uint64_t tcp = 0;
		uint64_t tls = 0;   ///< DoT listeners
		uint64_t https = 0; ///< DoH listeners
	} queries;

	/// One encrypted client transport (see stats::EncryptedStats).
	struct Encrypted
	{
		uint64_t connectionsNow = 0;
		uint64_t connectionsAccepted = 0;
		uint64_t handshakes = 0;
		uint64_t resumptions = 0;
		uint64_t handshakeFailures = 0;
		uint64_t handshakeTimeouts = 0;
		uint64_t rateLimited = 0;
		uint64_t http2Connections = 0;
		uint64_t http1Connections = 0;
		uint64_t httpErrors = 0;
	};
	Encrypted tls;   ///< DoT
	Encrypted https; ///< DoH

	std::array<uint64_t, 16> answersByRcode{}; ///< index = rcode (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...)

	struct Clients
	{
		uint64_t tcpConnectionsNow = 0;
		uint64_t tcpConnectionsAccepted = 0;
		uint64_t tcpConnectionsRefused = 0;
		uint64_t tcpIdleClosed = 0;
		uint64_t refusedByAcl = 0;
		uint64_t overLimit = 0; ///< refused because maxPending was reached
		uint64_t malformed = 0;
		uint64_t truncated = 0;
		uint64_t pending = 0; ///< queries waiting for upstreams now
	} clients;

	struct Cache
	{
		bool enabled = false;
		uint64_t entries = 0;
		uint64_t hits = 0;
		uint64_t misses = 0;
		uint64_t staleServed = 0;
		uint64_t prefetches = 0;
		uint64_t evictions = 0;
		uint64_t persisted = 0; ///< entries written to SQLite so far
		uint64_t loaded = 0;    ///< entries loaded from SQLite at start
		double loadSeconds = 0; ///< time the start-up load took
	} cache;

	struct Upstream
	{
		std::string address; ///< "1.1.1.1:853"
		std::string name;    ///< auth-name
		std::string state;   ///< "up" (connected or idle and usable), "down" (backing off after failures)
		uint64_t connectionsOpened = 0;
		uint64_t connectionsNow = 0;
		uint64_t connectFailures = 0;
		uint64_t tlsResumptions = 0;
		uint64_t queries = 0;
		uint64_t answers = 0;
		uint64_t failures = 0;
		uint64_t timeouts = 0;
		uint64_t retries = 0;
		uint64_t badAnswers = 0;
		uint64_t pinRefusals = 0;        ///< handshakes refused by a pin check
		uint64_t unauthenticatedTls = 0; ///< opportunistic: connections without a verified chain or name
		uint64_t clearTextFallbacks = 0; ///< opportunistic: clear-text DNS connections to port 53
		uint64_t downgradesRefused = 0;  ///< opportunistic: clear text refused for a server seen speaking TLS
		std::string transport = "tls";   ///< what the open connection speaks: "tls", "tls-unauthenticated", "clear"
		uint64_t serverCloses = 0;
		uint64_t idleCloses = 0;
		uint32_t learnedIdleMs = 0;
		double latencyP50Ms = 0;
		double latencyP95Ms = 0;
		double latencyP99Ms = 0;
		std::vector<double> latencyBucketBoundsMs; ///< Prometheus "le" bounds (ms)
		std::vector<uint64_t> latencyBucketCounts; ///< per bucket, NOT cumulative; last = +Inf
		double latencySumMs = 0;
	};
	std::vector<Upstream> upstreams;
	uint64_t coalesced = 0;

	struct Pins
	{
		uint64_t changesSeen = 0; ///< a known name presented a new key
		uint64_t refusals = 0;    ///< connections refused by pin checks
		uint64_t learned = 0;     ///< digests recorded
		uint64_t expiringSoon = 0;
	} pins;

	/// SIGHUP reloads (SPEC 2): the last one's time and result.
	struct Reload
	{
		uint64_t count = 0;  ///< reloads attempted since start
		uint64_t failed = 0; ///< of those, refused (the running configuration stayed)
		int64_t last = 0;    ///< unix time of the last one; 0 = none yet
		std::string result;  ///< "ok" or "failed: <one line>"; empty = none yet
	} reload;

	/// SPEC 4b: the shared Redis tier; all zero (enabled false) without a Redis URL configured.
	struct Fleet
	{
		bool enabled = false;
		std::string redis;        ///< host:port, or the master and its Sentinels
		bool breakerOpen = false; ///< Redis skipped until a background probe succeeds
		bool subscribed = false;  ///< on the pin channel
		uint64_t hits = 0;
		uint64_t misses = 0;
		uint64_t errors = 0;
		uint64_t skipped = 0; ///< lookups not sent (breaker open, queue full, waited too long)
		uint64_t writes = 0;
		uint64_t writesDropped = 0;
		uint64_t breakerOpens = 0;
		uint64_t reconnects = 0;
		uint64_t pinsPublished = 0;
		uint64_t pinsApplied = 0;
		uint64_t badMessages = 0;
		uint64_t rejected = 0; ///< values and pin events ignored: unsigned, bad MAC, expired, replayed
	} fleet;
};

} // namespace dnsproxy::stats
