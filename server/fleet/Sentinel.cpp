// Sentinel.cpp - master discovery and failover announcements from Redis Sentinel.
#include "fleet/Sentinel.h"

#include <Poco/NumberParser.h>
#include <Poco/Redis/Exception.h>

#include <sstream>

namespace dnsproxy::fleet
{

using Poco::Redis::Array;

Sentinel::Sentinel(RedisTarget& target, uint32_t timeoutMs):
	_target(target),
	_ask(target, timeoutMs),
	_subscription(target, timeoutMs)
{
}

RedisEndpoint Sentinel::resolve()
{
	const RedisUrl& url = _target.url();
	std::string errors;
	for (const auto& sentinel : url.sentinels)
	{
		try
		{
			_ask.openSentinel(sentinel);
			Array command;
			command << "SENTINEL"
					<< "get-master-addr-by-name" << url.master;
			auto reply = _ask.send(command);
			_ask.close();
			auto pair = array(reply);
			if (isError(reply))
				throw Poco::Redis::RedisException(errorText(reply));
			if (!pair || pair->size() != 2)
				throw Poco::Redis::RedisException("does not know master " + url.master);
			auto host = bulkString(*pair->begin());
			auto port = bulkString(*(pair->begin() + 1));
			unsigned number = 0;
			if (!host || !port || !Poco::NumberParser::tryParseUnsigned(*port, number) || number == 0 || number > 65535)
				throw Poco::Redis::RedisException("malformed answer to get-master-addr-by-name");
			RedisEndpoint master{*host, static_cast<uint16_t>(number)};
			_target.setEndpoint(master);
			return master;
		}
		catch (const Poco::Exception& e)
		{
			_ask.close();
			errors += (errors.empty() ? "" : "; ") + sentinel.hostAndPort() + ": " + e.displayText();
		}
	}
	throw Poco::Redis::RedisException("no Sentinel answered for master " + url.master + " (" + errors + ")");
}

std::optional<RedisEndpoint> Sentinel::watch()
{
	const RedisUrl& url = _target.url();
	if (url.sentinels.empty())
		return std::nullopt;
	std::optional<RedisEndpoint> moved;
	try
	{
		if (!_subscription.connected())
		{
			_subscription.openSentinel(url.sentinels[_next % url.sentinels.size()]);
			Array subscribe;
			subscribe << "SUBSCRIBE"
					  << "+switch-master";
			auto confirmation = array(_subscription.send(subscribe));
			if (!confirmation || confirmation->size() == 0 || bulkString(*confirmation->begin()) != "subscribe")
				throw Poco::ProtocolException("unexpected answer to SUBSCRIBE +switch-master");
		}
		Array ping;
		ping << "PING";
		auto reply = _subscription.send(ping);
		for (int guard = 0; guard < 1000; ++guard)
		{
			auto message = array(reply);
			auto kind = message && message->size() > 0 ? bulkString(*message->begin()) : std::nullopt;
			if (!kind || *kind == "pong")
				break;
			if (*kind == "message" && message->size() == 3)
			{
				// "<master> <old-ip> <old-port> <new-ip> <new-port>"
				std::istringstream words(bulkString(*(message->begin() + 2)).value_or(""));
				std::string name, oldHost, oldPort, newHost, newPort;
				unsigned port = 0;
				if (words >> name >> oldHost >> oldPort >> newHost >> newPort && name == url.master &&
					Poco::NumberParser::tryParseUnsigned(newPort, port) && port > 0 && port <= 65535)
					moved = RedisEndpoint{newHost, static_cast<uint16_t>(port)};
			}
			reply = _subscription.read();
		}
	}
	catch (const Poco::Exception&)
	{
		// This Sentinel is away: the next poll tries the next one; errors reach the log through
		// resolve(), which every failover also goes through.
		_subscription.close();
		++_next;
	}
	return moved;
}

void Sentinel::stopWatching()
{
	_subscription.close();
}

} // namespace dnsproxy::fleet
