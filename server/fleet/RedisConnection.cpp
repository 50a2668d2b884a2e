// RedisConnection.cpp - bounded connect, pipelined commands, broken connections dropped.
#include "fleet/RedisConnection.h"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Redis/Error.h>
#include <Poco/Redis/Exception.h>

namespace dnsproxy::fleet
{

using Poco::Redis::Array;
using Poco::Redis::RedisType;

RedisConnection::RedisConnection(RedisUrl url, uint32_t timeoutMs):
	_url(std::move(url)),
	_timeoutMs(timeoutMs)
{
}

RedisConnection::~RedisConnection()
{
	close();
}

void RedisConnection::close()
{
	if (!_client)
		return;
	try
	{
		_client->disconnect();
	}
	catch (const Poco::Exception&)
	{
		// The socket is going away either way; nothing to count.
	}
	_client.reset();
}

template <class F> auto RedisConnection::guarded(F&& f) -> decltype(f())
{
	try
	{
		return f();
	}
	catch (...)
	{
		close();
		throw;
	}
}

void RedisConnection::ensure(uint64_t generation)
{
	if (_client && _generation == generation)
		return;
	close();
	const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(_timeoutMs) * 1000);
	auto client = std::make_unique<Poco::Redis::Client>();
	// The name is resolved on every connect: a Redis container may come back with a new address.
	client->connect(Poco::Net::SocketAddress(_url.hostAndPort()), timeout);
	client->setReceiveTimeout(timeout);
	_client = std::move(client);
	_generation = generation;
	if (_url.db != 0)
	{
		Array select;
		select << "SELECT" << std::to_string(_url.db);
		auto reply = guarded([&] { return _client->sendCommand(select); });
		if (isError(reply))
		{
			close();
			throw Poco::Redis::RedisException("SELECT " + std::to_string(_url.db) + " refused");
		}
	}
}

std::vector<RedisType::Ptr> RedisConnection::run(const std::vector<Array>& commands)
{
	if (!_client)
		throw Poco::IllegalStateException("redis: not connected");
	return guarded([&] {
		std::vector<RedisType::Ptr> replies;
		if (commands.empty())
			return replies;
		Array all = _client->sendCommands(commands);
		if (all.isNull())
			return replies;
		replies.reserve(all.size());
		for (auto it = all.begin(); it != all.end(); ++it)
			replies.push_back(*it);
		return replies;
	});
}

RedisType::Ptr RedisConnection::send(const Array& command)
{
	if (!_client)
		throw Poco::IllegalStateException("redis: not connected");
	return guarded([&] { return _client->sendCommand(command); });
}

RedisType::Ptr RedisConnection::read()
{
	if (!_client)
		throw Poco::IllegalStateException("redis: not connected");
	return guarded([&] { return _client->readReply(); });
}

std::optional<std::string> bulkString(const RedisType::Ptr& reply)
{
	if (reply.isNull() || reply->type() != Poco::Redis::RedisTypeTraits<Poco::Redis::BulkString>::TypeId)
		return std::nullopt;
	auto* bulk = dynamic_cast<const Poco::Redis::Type<Poco::Redis::BulkString>*>(reply.get());
	if (!bulk || bulk->value().isNull())
		return std::nullopt;
	return bulk->value().value();
}

std::optional<int64_t> integer(const RedisType::Ptr& reply)
{
	if (reply.isNull() || reply->type() != Poco::Redis::RedisTypeTraits<Poco::Int64>::TypeId)
		return std::nullopt;
	auto* number = dynamic_cast<const Poco::Redis::Type<Poco::Int64>*>(reply.get());
	if (!number)
		return std::nullopt;
	return number->value();
}

std::optional<Array> array(const RedisType::Ptr& reply)
{
	if (reply.isNull() || reply->type() != Poco::Redis::RedisTypeTraits<Array>::TypeId)
		return std::nullopt;
	auto* value = dynamic_cast<const Poco::Redis::Type<Array>*>(reply.get());
	if (!value || value->value().isNull())
		return std::nullopt;
	return value->value();
}

bool isError(const RedisType::Ptr& reply)
{
	return !reply.isNull() && reply->type() == Poco::Redis::RedisTypeTraits<Poco::Redis::Error>::TypeId;
}

} // namespace dnsproxy::fleet
