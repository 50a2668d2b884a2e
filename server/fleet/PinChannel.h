// PinChannel.h - the shared pin store: pins in Redis hashes, changes on a pub/sub channel.
#pragma once

#include "common/WorkerThread.h"
#include "fleet/FleetContext.h"
#include "fleet/RedisConnection.h"
#include "fleet/RedisWriter.h"
#include "fleet/ReplayGuard.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

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
/// connection is noticed within timeoutMs. The thread follows the breaker: it stays away while
/// it is open and subscribes again (with a resync) once it has closed.
///
/// Signed (SPEC 4b; only started with a fleet secret): every channel message ends with an
/// Envelope tag over the channel name and the message, valid EVENT_TTL_S; every hash value is
/// "<learned|approved> <tag>", the tag over the pins key and "<digest> <source>", without
/// expiry. A message or value whose tag fails, an expired message, a message already applied
/// (ReplayGuard), and anything signed before the last forget of its name seen here is ignored
/// and counted in `rejected`. Names must be host names and digests base64 of 32 bytes, or the
/// event is counted in `badMessages`.
///
/// Threading: publish() from any thread; `apply` is called on the subscriber thread only, never
/// for this proxy's own events. `_forgetMutex` guards `_forgotten`.
class PinChannel
{
public:
	using Apply = std::function<void(const PinEvent&)>;
	static constexpr uint32_t EVENT_TTL_S = 60;

	/// An auth-name as the pin store keeps it, and a base64 SHA-256 digest (32 bytes).
	static bool validName(const std::string& name);
	static bool validDigest(const std::string& digest);

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
	/// Merges what Redis holds: every pins hash, each field through applyStoredPin().
	void resync();
	/// The keys of all pins hashes (SCAN over the pins pattern, on `_scan`).
	std::vector<std::string> scanPinsKeys();
	/// One hash field of `key` (pins of `name`): checks the value's source and tag, then delivers it.
	void applyStoredPin(const std::string& key, const std::string& name, const Poco::Redis::RedisType::Ptr& field,
						const Poco::Redis::RedisType::Ptr& stored);
	/// True when the reply was a channel message (or a subscribe confirmation), i.e. the PONG
	/// is still to come.
	bool handle(const Poco::Redis::RedisType::Ptr& reply);
	void deliver(const PinEvent& event, int64_t signedMs);
	/// Remembers a forget (local or remote); false when `signedMs` is older than the last forget of `name`.
	bool afterForget(const std::string& name, int64_t signedMs, bool isForget);

	FleetContext& _context;
	RedisWriter& _writer;
	Apply _apply;
	RedisConnection _connection;
	RedisConnection _scan;
	std::atomic<bool> _subscribed{false};
	uint64_t _subscribedGeneration = 0; ///< breaker generation of the subscription (subscriber thread only)
	ReplayGuard _replays;               ///< subscriber thread only
	std::mutex _forgetMutex;
	std::map<std::string, int64_t> _forgotten; ///< name -> signing time of its last forget
	common::WorkerThread _subscriber;
};

} // namespace dnsproxy::fleet
