// FlightCoalescer.h - identical questions in flight go upstream once; every waiting client gets the answer.
#pragma once

#include "dns/Message.h"
#include "upstream/UpstreamClient.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace dnsproxy::upstream
{

/// Joins queries for the same question while the first one is upstream.
///
/// "Same question" is the packet cache's rule (cache::CacheKey: lower-cased name, type, class,
/// DO, CD), so two queries share an upstream answer exactly when they would share a cache entry:
/// the answer is shaped for each client afterwards (ID, EDNS, name case). RD and the client's
/// EDNS options do not matter, the query goes upstream with RD=1 and the proxy's own options.
///
/// Use: key() the query; when join() returns true the caller is the first and sends the query,
/// then passes the result to land(), which calls every waiter (the first one included) with the
/// answer under the waiter's own message ID. An empty key (no single uncompressed question)
/// is never coalesced: the caller sends such a query alone.
///
/// Threading: join() and land() from any thread; `_mutex` guards the map, callbacks run outside it
/// on the thread that calls land().
class FlightCoalescer
{
public:
	using Callback = UpstreamClient::Callback;

	/// The coalescing key of a parsed query; empty when it is not coalesced.
	static std::string key(const std::vector<uint8_t>& query, const dns::MessageInfo& info);

	/// Registers a client waiting for `key` under message ID `id`. True when no flight for the key
	/// existed: the caller must send the query and land() its result.
	bool join(const std::string& key, uint16_t id, Callback done);

	/// Ends the flight of `key`: every waiter gets `result` with its own ID.
	void land(const std::string& key, UpstreamResult&& result);

	/// Queries that joined a flight instead of going upstream.
	uint64_t coalesced() const
	{
		return _coalesced.load(std::memory_order_relaxed);
	}

private:
	struct Waiter
	{
		uint16_t id;
		Callback done;
	};

	std::mutex _mutex;
	std::unordered_map<std::string, std::vector<Waiter>> _flights;
	std::atomic<uint64_t> _coalesced{0};
};

} // namespace dnsproxy::upstream
