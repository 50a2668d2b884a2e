// SharedCache.h - the fleet's second-level cache: wire answers in Redis, shared by every proxy.
#pragma once

#include "cache/TtlPolicy.h"
#include "common/WorkerThread.h"
#include "fleet/FleetContext.h"
#include "fleet/RedisConnection.h"
#include "fleet/RedisWriter.h"
#include "pipeline/SecondLevelCache.h"

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace dnsproxy::fleet
{

/// pipeline::SecondLevelCache over Redis (key layout in KeyLayout).
///
/// lookup(): skipped at once (done(nullopt) on the caller's thread) while the breaker is open or
/// the queue is full; otherwise queued for a small pool of lookup threads, each with its own
/// connection, which take up to 32 queued keys at a time and ask GET and PTTL for all of them in
/// one pipelined round trip. Every read is bounded by timeoutMs, and a key that waited longer
/// than timeoutMs in the queue is answered as a miss without asking, so a client waits at most
/// about timeoutMs for Redis. A hit's TTLs are reduced by the time the entry has spent in Redis
/// (its lifetime, from TtlPolicy, minus PTTL), so the local cache and the client get the
/// remaining TTL. The callback runs on the lookup thread. With a secret a value must open as an
/// Envelope over its key (else a miss, counted in `rejected`), and lives no longer than signed.
///
/// store(): hands a copy to the RedisWriter (SET key answer PX ttl); never waits.
///
/// Threading: lookup() and store() from any thread; stop() joins the lookup threads after
/// answering every queued lookup as a miss.
class SharedCache: public pipeline::SecondLevelCache
{
public:
	SharedCache(FleetContext& context, RedisWriter& writer, const cache::CacheSettings& cacheSettings, size_t threads,
				size_t capacity);
	~SharedCache() override;

	void start();
	void stop();

	void lookup(const std::string& key, Callback done) override;
	void store(const std::string& key, const uint8_t* answer, size_t len) override;

	/// Turns a value read from Redis with `pttlMs` left into the answer to serve: TTLs aged by the
	/// time spent there. nullopt when unusable (malformed, not cacheable, less than 1 s left).
	static std::optional<std::vector<uint8_t>> fromRedis(const std::string& value, int64_t pttlMs,
														 const cache::TtlPolicy& policy);

private:
	struct Lookup
	{
		std::string key;
		Callback done;
		std::chrono::steady_clock::time_point queued;
	};

	void run();
	void ask(RedisConnection& connection, std::vector<Lookup>& batch);
	/// Answers as a miss every lookup of `batch` that waited timeoutMs already or finds the
	/// breaker open; returns the others.
	std::vector<Lookup> stillWaiting(std::vector<Lookup>& batch);
	/// One pipelined GET and PTTL per lookup, within timeoutMs of the oldest one's queueing;
	/// false (the failure recorded) when Redis did not answer.
	bool fetch(RedisConnection& connection, const std::vector<Lookup>& asking,
			   std::vector<Poco::Redis::RedisType::Ptr>& replies);
	/// The answer to serve for `key` from its GET and PTTL replies read at `wallMs`; nullopt is a miss.
	std::optional<std::vector<uint8_t>> answerOf(const std::string& key, const Poco::Redis::RedisType::Ptr& valueReply,
												 const Poco::Redis::RedisType::Ptr& pttlReply, int64_t wallMs);

	FleetContext& _context;
	RedisWriter& _writer;
	cache::TtlPolicy _policy;
	size_t _threads;
	size_t _capacity;
	common::WorkerThread _workers; ///< its mutex() also guards _queue
	std::deque<Lookup> _queue;
};

} // namespace dnsproxy::fleet
