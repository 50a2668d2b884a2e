// PinChannel.cpp - publishing pin changes, and the subscriber thread that applies the others'.
#include "fleet/PinChannel.h"

namespace dnsproxy::fleet
{

using Poco::Redis::Array;

PinChannel::PinChannel(FleetContext& context, RedisWriter& writer, Apply apply):
	_context(context),
	_writer(writer),
	_apply(std::move(apply)),
	_connection(context.url, context.timeoutMs),
	_scan(context.url, context.timeoutMs)
{
}

PinChannel::~PinChannel()
{
	stop();
}

void PinChannel::start()
{
	_subscriber.start([this] { run(); });
}

void PinChannel::stop()
{
	_subscriber.stop();
}

void PinChannel::publish(PinEvent event)
{
	event.origin = _context.origin;
	const std::string key = _context.keys.pinsKey(event.name);
	RedisWriter::Item item;
	Array update;
	switch (event.kind)
	{
	case PinEvent::Kind::LEARNED:
		update << "HSETNX" << key << event.sha256 << "learned";
		break;
	case PinEvent::Kind::APPROVED:
		update << "HSET" << key << event.sha256 << "approved";
		break;
	case PinEvent::Kind::FORGOTTEN:
		update << "DEL" << key;
		break;
	}
	Array publish;
	publish << "PUBLISH" << _context.keys.pinsChannel() << KeyLayout::encode(event);
	item.commands.push_back(std::move(update));
	item.commands.push_back(std::move(publish));
	if (_writer.push(std::move(item)))
		_context.counters.pinsPublished.fetch_add(1, std::memory_order_relaxed);
}

void PinChannel::deliver(const PinEvent& event)
{
	if (event.origin == _context.origin)
		return;
	_apply(event);
	_context.counters.pinsApplied.fetch_add(1, std::memory_order_relaxed);
}

bool PinChannel::handle(const Poco::Redis::RedisType::Ptr& reply)
{
	auto message = array(reply);
	if (!message || message->size() == 0)
		return false;
	auto kind = bulkString(*message->begin());
	if (!kind)
		return false;
	if (*kind == "pong")
		return false;
	if (*kind == "message" && message->size() == 3)
	{
		auto payload = bulkString(*(message->begin() + 2));
		auto event = payload ? KeyLayout::decode(*payload) : std::nullopt;
		if (event)
			deliver(*event);
		else
			_context.counters.badMessages.fetch_add(1, std::memory_order_relaxed);
	}
	return true; // a message or a (un)subscribe confirmation: the PONG is still coming
}

bool PinChannel::subscribe()
{
	try
	{
		const uint64_t generation = _context.breaker.generation();
		_connection.ensure(generation);
		Array command;
		command << "SUBSCRIBE" << _context.keys.pinsChannel();
		auto reply = _connection.send(command);
		auto confirmation = array(reply);
		if (!confirmation || confirmation->size() == 0 || bulkString(*confirmation->begin()) != "subscribe")
			throw Poco::ProtocolException("unexpected answer to SUBSCRIBE");
		resync();
		_subscribedGeneration = generation;
		_subscribed.store(true, std::memory_order_relaxed);
		_context.logger.information("redis %s: subscribed to %s; pins merged", _context.url.hostAndPort(),
									_context.keys.pinsChannel());
		return true;
	}
	catch (const Poco::Exception& e)
	{
		_connection.close();
		_context.failed("subscribe", e);
		return false;
	}
}

void PinChannel::resync()
{
	_scan.ensure(_context.breaker.generation());
	std::string cursor = "0";
	std::vector<std::string> keys;
	do
	{
		Array scan;
		scan << "SCAN" << cursor << "MATCH" << _context.keys.pinsPattern() << "COUNT"
			 << "200";
		auto replies = _scan.run({scan});
		auto page = replies.empty() ? std::nullopt : array(replies.front());
		if (!page || page->size() != 2)
			throw Poco::ProtocolException("unexpected answer to SCAN");
		auto next = bulkString(*page->begin());
		auto found = array(*(page->begin() + 1));
		if (!next)
			throw Poco::ProtocolException("unexpected cursor from SCAN");
		cursor = *next;
		if (found && !found->isNull())
			for (auto it = found->begin(); it != found->end(); ++it)
				if (auto key = bulkString(*it))
					keys.push_back(*key);
	} while (cursor != "0");
	if (keys.empty())
		return;
	std::vector<Array> commands;
	for (const auto& key : keys)
	{
		Array all;
		all << "HGETALL" << key;
		commands.push_back(std::move(all));
	}
	auto replies = _scan.run(commands);
	for (size_t i = 0; i < keys.size() && i < replies.size(); ++i)
	{
		auto name = _context.keys.nameOfPinsKey(keys[i]);
		auto fields = array(replies[i]);
		if (!name || !fields)
			continue;
		for (auto it = fields->begin(); it != fields->end() && it + 1 != fields->end(); it += 2)
		{
			auto digest = bulkString(*it);
			auto source = bulkString(*(it + 1));
			if (!digest || !source || (*source != "learned" && *source != "approved"))
			{
				_context.counters.badMessages.fetch_add(1, std::memory_order_relaxed);
				continue;
			}
			PinEvent event;
			event.kind = *source == "approved" ? PinEvent::Kind::APPROVED : PinEvent::Kind::LEARNED;
			event.name = *name;
			event.sha256 = *digest;
			deliver(event);
		}
	}
}

void PinChannel::run()
{
	std::unique_lock<std::mutex> lock(_subscriber.mutex());
	while (!_subscriber.stopping())
	{
		_subscriber.condition().wait_for(lock, std::chrono::milliseconds(100));
		if (_subscriber.stopping())
			break;
		lock.unlock();
		if (!_context.breaker.allow())
		{
			_subscribed.store(false, std::memory_order_relaxed);
			_connection.close();
		}
		else if (!_subscribed.load(std::memory_order_relaxed) || !_connection.connected() ||
				 _subscribedGeneration != _context.breaker.generation())
		{
			// First time, or the breaker went through an outage since: subscribe (and resync) anew.
			_subscribed.store(false, std::memory_order_relaxed);
			_connection.close();
			subscribe();
		}
		else
		{
			try
			{
				Array ping;
				ping << "PING";
				auto reply = _connection.send(ping);
				int guard = 10000; // a flood of messages must not keep this loop from its stop check
				while (handle(reply) && --guard > 0)
					reply = _connection.read();
				_context.breaker.recordSuccess();
			}
			catch (const Poco::Exception& e)
			{
				_subscribed.store(false, std::memory_order_relaxed);
				_connection.close();
				_context.failed("subscription", e);
			}
		}
		lock.lock();
	}
	_subscribed.store(false, std::memory_order_relaxed);
}

} // namespace dnsproxy::fleet
