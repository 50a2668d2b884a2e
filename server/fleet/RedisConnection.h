// RedisConnection.h - one Poco::Redis connection with hard time limits, owned by one thread.
#pragma once

#include "fleet/RedisUrl.h"

#include <Poco/Redis/Array.h>
#include <Poco/Redis/Client.h>
#include <Poco/Redis/Type.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::fleet
{

/// Connects lazily (connect timeout = timeout_ms), selects the database, and runs pipelined
/// command batches whose every read is bounded by timeout_ms (socket receive timeout). Any
/// failure (refused, timeout, reset, protocol) throws Poco::Exception and leaves the connection
/// closed: a Poco::Redis::Client whose read timed out has a broken stream and must not be
/// reused. Replies of type Error do not throw; the caller sees them in the result.
///
/// `generation` remembers the CircuitBreaker generation the connection was made under; the
/// owner reconnects when the breaker's generation moved on.
///
/// Threading: not thread-safe; each fleet thread owns its own connection.
class RedisConnection
{
public:
	RedisConnection(RedisUrl url, uint32_t timeoutMs);
	~RedisConnection();

	bool connected() const
	{
		return _client != nullptr;
	}
	/// Connects (and SELECTs the database) unless connected under `generation` already.
	void ensure(uint64_t generation);
	void close();
	/// Writes every command, then reads one reply per command.
	std::vector<Poco::Redis::RedisType::Ptr> run(const std::vector<Poco::Redis::Array>& commands);
	/// Sends one command and reads one reply (in subscribed mode that reply may be a message).
	Poco::Redis::RedisType::Ptr send(const Poco::Redis::Array& command);
	/// Reads one more reply.
	Poco::Redis::RedisType::Ptr read();

private:
	template <class F> auto guarded(F&& f) -> decltype(f());

	RedisUrl _url;
	uint32_t _timeoutMs;
	std::unique_ptr<Poco::Redis::Client> _client;
	uint64_t _generation = 0;
};

/// Reply helpers: the value of a bulk string (nullopt for nil or another type), of an integer.
std::optional<std::string> bulkString(const Poco::Redis::RedisType::Ptr& reply);
std::optional<int64_t> integer(const Poco::Redis::RedisType::Ptr& reply);
std::optional<Poco::Redis::Array> array(const Poco::Redis::RedisType::Ptr& reply);
bool isError(const Poco::Redis::RedisType::Ptr& reply);

} // namespace dnsproxy::fleet
