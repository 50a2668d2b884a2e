// RedisWriter.h - the fleet's one writer: a bounded queue drained in pipelined batches.
#pragma once

#include "cache/TtlPolicy.h"
#include "common/WorkerThread.h"
#include "fleet/FleetContext.h"
#include "fleet/RedisConnection.h"

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace dnsproxy::fleet
{

/// Everything the proxy writes to Redis goes through here, so no client ever waits for a write.
/// An item is either an upstream answer for the shared cache (its TTL is worked out here, on the
/// writer thread, with the same TtlPolicy as the local cache; the expiry is that TTL minus the
/// time spent in the queue) or ready-made commands (pin updates and publishes). With a secret a
/// cache value is sealed in an Envelope over its key, valid for that expiry.
///
/// While the breaker is open nothing is sent and items wait (the queue is bounded: when it is
/// full new items are dropped and counted). A batch that fails is dropped, except pin items,
/// which go back to the front of the queue: an approval must reach the fleet once Redis is back.
///
/// Threading: push() from any thread (a lock and a move); one writer thread owns the connection.
class RedisWriter
{
public:
	struct Item
	{
		std::string cacheKey;                     ///< binary CacheKey; empty for a command item
		std::vector<uint8_t> answer;              ///< wire answer (cache items)
		std::vector<Poco::Redis::Array> commands; ///< command items
		std::chrono::steady_clock::time_point queued;
	};

	RedisWriter(FleetContext& context, const cache::CacheSettings& cacheSettings, size_t capacity);
	~RedisWriter();

	void start();
	/// Sends what is queued if Redis is usable (one attempt), then stops the thread.
	void stop();
	/// False (and counted as dropped) when the queue is full.
	bool push(Item&& item);

	size_t queued() const;

private:
	void run();
	void send(std::vector<Item>& batch);
	bool addCacheCommand(Item& item, std::vector<Poco::Redis::Array>& out) const;

	FleetContext& _context;
	cache::TtlPolicy _policy;
	size_t _capacity;
	RedisConnection _connection;
	mutable common::WorkerThread _sender; ///< its mutex() also guards _queue
	std::deque<Item> _queue;
};

} // namespace dnsproxy::fleet
