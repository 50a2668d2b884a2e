// PinChannel.h - the shared pin store: pins in Redis hashes, changes on a pub/sub channel.
#pragma once

#include "common/WorkerThread.h"
#include "fleet/FleetContext.h"
#include "fleet/RedisConnection.h"
#include "fleet/RedisWriter.h"

#include <atomic>
#include <functional>
#include <mutex>

namespace dnsproxy::fleet
{

/// publish(): a learned digest goes into `P pins:<name>` with HSETNX (never downgrading an
/// approval), an approved one with HSET, a forget DELetes the hash; then the event is PUBLISHed
/// on `P pins`. Both go through the RedisWriter (kept and retried while Redis is away).
///
/// Subscriber: one thread with its own connection SUBSCRIBEs to the channel and, right after
/// every (re)subscription, merges what Redis holds (SCAN `P pins:*`, HGETALL each, on a second
/// connection) through `apply`, so pins changed while this proxy was away or Redis was down
/// arrive too. Poco::Redis cannot wait for a message without a read timeout that breaks its
/// stream, so the thread sends PING every 100 ms and reads until the PONG, applying the messages
/// queued before it: events from other proxies are applied within about 100 ms, and a dead
/// connection is noticed within timeout_ms. The thread follows the breaker: it stays away while
/// it is open and subscribes again (with a resync) once it has closed.
///
/// Threading: publish() from any thread; `apply` is called on the subscriber thread only, never
/// for this proxy's own events.
class PinChannel
{
public:
	using Apply = std::function<void(const PinEvent&)>;

	PinChannel(FleetContext& context, RedisWriter& writer, Apply apply);
	~PinChannel();

	void start();
	void stop();
	void publish(PinEvent event);

	bool subscribed() const
	{
		return _subscribed.load(std::memory_order_relaxed);
	}

private:
	void run();
	bool subscribe();
	void resync();
	/// True when the reply was a channel message (or a subscribe confirmation), i.e. the PONG
	/// is still to come.
	bool handle(const Poco::Redis::RedisType::Ptr& reply);
	void deliver(const PinEvent& event);

	FleetContext& _context;
	RedisWriter& _writer;
	Apply _apply;
	RedisConnection _connection;
	RedisConnection _scan;
	std::atomic<bool> _subscribed{false};
	uint64_t _subscribedGeneration = 0; ///< breaker generation of the subscription (subscriber thread only)
	common::WorkerThread _subscriber;
};

} // namespace dnsproxy::fleet
