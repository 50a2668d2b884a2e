// RedisConnection.h - one Redis connection (plain or TLS) with hard time limits, owned by one thread.
#pragma once

#include "fleet/RedisTarget.h"

#include <Poco/Net/StreamSocket.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/RedisStream.h>
#include <Poco/Redis/Type.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::fleet
{

/// Connects lazily to the target's current node (connect and TLS handshake bounded by
/// timeoutMs), authenticates (AUTH [user] password), selects the database, and for a Sentinel
/// URL checks with ROLE that the node is still the master. Then runs pipelined command batches
/// whose every read is bounded by timeoutMs (socket receive timeout). Any failure (refused,
/// timeout, reset, protocol, AUTH refused, certificate refused) throws Poco::Exception and leaves
/// the connection closed: a stream whose read timed out is broken and must not be reused. Replies
/// of type Error do not throw; the caller sees them in the result.
///
/// Poco::Redis::Client of POCO 1.11 only connects plain TCP sockets itself; this class speaks
/// RESP through POCO's RedisInputStream/RedisOutputStream and RedisType over a StreamSocket that
/// is a Poco::Net::SecureStreamSocket for rediss://.
///
/// A deadline (setDeadline) bounds everything that follows as a whole, connect, handshake, AUTH
/// and reads alike: the DNS path sets it so that a client never waits for Redis longer than
/// timeoutMs in all, reconnect included; past it a call throws TimeoutException.
///
/// `generation` remembers the CircuitBreaker generation the connection was made under; the
/// owner reconnects when the breaker's generation moved on.
///
/// Threading: not thread-safe; each fleet thread owns its own connection.
class RedisConnection
{
public:
	RedisConnection(const RedisTarget& target, uint32_t timeoutMs);
	~RedisConnection();

	bool connected() const
	{
		return _input != nullptr;
	}
	/// Connects (AUTH, SELECT, ROLE) unless connected under `generation` already.
	void ensure(uint64_t generation);
	/// Connects to `endpoint` in plain TCP without AUTH or SELECT: a Sentinel.
	void openSentinel(const RedisEndpoint& endpoint);
	void close();
	/// Bounds every following step by `deadline` too (until clearDeadline()).
	void setDeadline(std::chrono::steady_clock::time_point deadline)
	{
		_deadline = deadline;
	}
	void clearDeadline()
	{
		_deadline.reset();
	}
	/// Writes every command, then reads one reply per command.
	std::vector<Poco::Redis::RedisType::Ptr> run(const std::vector<Poco::Redis::Array>& commands);
	/// Sends one command and reads one reply (in subscribed mode that reply may be a message).
	Poco::Redis::RedisType::Ptr send(const Poco::Redis::Array& command);
	/// Reads one more reply.
	Poco::Redis::RedisType::Ptr read();

private:
	template <class F> auto guarded(F&& f) -> decltype(f());
	void open(const RedisEndpoint& endpoint, bool tls);
	void write(const Poco::Redis::Array& command);
	Poco::Redis::RedisType::Ptr readReply();
	/// timeoutMs, or less when the deadline is nearer; throws TimeoutException once it has passed.
	Poco::Timespan budget() const;

	const RedisTarget& _target;
	uint32_t _timeoutMs;
	Poco::Net::StreamSocket _socket;
	std::unique_ptr<Poco::Redis::RedisInputStream> _input;
	std::unique_ptr<Poco::Redis::RedisOutputStream> _output;
	uint64_t _generation = 0;
	std::optional<std::chrono::steady_clock::time_point> _deadline;
};

/// Reply helpers: the value of a bulk string (nullopt for nil or another type), of an integer.
std::optional<std::string> bulkString(const Poco::Redis::RedisType::Ptr& reply);
std::optional<int64_t> integer(const Poco::Redis::RedisType::Ptr& reply);
std::optional<Poco::Redis::Array> array(const Poco::Redis::RedisType::Ptr& reply);
bool isError(const Poco::Redis::RedisType::Ptr& reply);
/// The text of an Error reply ("WRONGPASS invalid username-password pair..."), empty otherwise.
std::string errorText(const Poco::Redis::RedisType::Ptr& reply);

} // namespace dnsproxy::fleet
