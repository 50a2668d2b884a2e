// PinChannel.cpp - publishing pin changes, and the subscriber thread that applies the others'.
#include "fleet/PinChannel.h"

#include "fleet/Envelope.h"

namespace dnsproxy::fleet
{

using Poco::Redis::Array;

PinChannel::PinChannel(FleetContext& context, RedisWriter& writer, Apply apply):
	_context(context),
	_writer(writer),
	_apply(std::move(apply)),
	_connection(context.target, context.timeoutMs),
	_scan(context.target, context.timeoutMs)
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

bool PinChannel::validName(const std::string& name)
{
	if (name.empty() || name.size() > 253)
		return false;
	size_t label = 0;
	for (const char c : name)
	{
		if (c == '.')
		{
			if (label == 0)
				return false;
			label = 0;
		}
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
		{
			if (++label > 63)
				return false;
		}
		else
			return false; // upper case too: names are shared in lower case
	}
	return true;
}

bool PinChannel::validDigest(const std::string& digest)
{
	if (digest.size() != 44 || digest.back() != '=')
		return false;
	const auto raw = decodeBase64(digest);
	return raw && raw->size() == 32;
}

bool PinChannel::afterForget(const std::string& name, int64_t signedMs, bool isForget)
{
	std::lock_guard<std::mutex> lock(_forgetMutex);
	auto& last = _forgotten[name];
	if (signedMs < last)
		return false;
	if (isForget)
		last = signedMs;
	else if (last == 0)
		_forgotten.erase(name);
	return true;
}

void PinChannel::publish(PinEvent event)
{
	if (!_context.envelope.enabled())
		return; // SPEC 4b: without a secret pins are not shared
	event.origin = _context.origin;
	const int64_t now = _context.nowMs();
	const std::string key = _context.keys.pinsKey(event.name);
	const std::string source = KeyLayout::kindName(event.kind);
	RedisWriter::Item item;
	Array update;
	switch (event.kind)
	{
	case PinEvent::Kind::LEARNED:
	case PinEvent::Kind::APPROVED:
		update << (event.kind == PinEvent::Kind::LEARNED ? "HSETNX" : "HSET") << key << event.sha256
			   << source + " " + _context.envelope.tag(key, event.sha256 + " " + source, now, 0);
		break;
	case PinEvent::Kind::FORGOTTEN:
		update << "DEL" << key;
		afterForget(event.name, now, true);
		break;
	}
	const std::string message = KeyLayout::encode(event);
	Array publish;
	publish << "PUBLISH" << _context.keys.pinsChannel()
			<< message + " " + _context.envelope.tag(_context.keys.pinsChannel(), message, now, EVENT_TTL_S);
	item.commands.push_back(std::move(update));
	item.commands.push_back(std::move(publish));
	if (_writer.push(std::move(item)))
		_context.counters.pinsPublished.fetch_add(1, std::memory_order_relaxed);
}

void PinChannel::deliver(const PinEvent& event, int64_t signedMs)
{
	if (event.origin == _context.origin)
		return;
	if (!validName(event.name) || (event.kind != PinEvent::Kind::FORGOTTEN && !validDigest(event.sha256)))
	{
		_context.counters.badMessages.fetch_add(1, std::memory_order_relaxed);
		return;
	}
	if (!afterForget(event.name, signedMs, event.kind == PinEvent::Kind::FORGOTTEN))
	{
		_context.rejected("a pin signed before the name was forgotten", Envelope::Verdict::EXPIRED);
		return;
	}
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
		const int64_t now = _context.nowMs();
		Envelope::Opened opened;
		const auto verdict = payload ? _context.envelope.openText(_context.keys.pinsChannel(), *payload, now, opened)
									 : Envelope::Verdict::MALFORMED;
		if (verdict != Envelope::Verdict::OK)
			_context.rejected("a pin event", verdict);
		else if (opened.ttlS == 0 || opened.ttlS > EVENT_TTL_S)
			_context.rejected("a pin event", Envelope::Verdict::EXPIRED); // a stored value's tag replayed as an event
		else if (!_replays.firstTime(opened.mac, opened.signedMs + int64_t(opened.ttlS) * 1000, now))
			_context.rejected("a replayed pin event", Envelope::Verdict::OK);
		else if (auto event = KeyLayout::decode(opened.content))
			deliver(*event, opened.signedMs);
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
		_context.logger.information("redis %s: subscribed to %s; pins merged", _context.target.describe(),
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
	const std::vector<std::string> keys = scanPinsKeys();
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
			applyStoredPin(keys[i], *name, *it, *(it + 1));
	}
}

std::vector<std::string> PinChannel::scanPinsKeys()
{
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
	return keys;
}

void PinChannel::applyStoredPin(const std::string& key, const std::string& name,
								const Poco::Redis::RedisType::Ptr& field, const Poco::Redis::RedisType::Ptr& stored)
{
	auto digest = bulkString(field);
	auto value = bulkString(stored);
	const auto space = value ? value->find(' ') : std::string::npos;
	const std::string source = value ? value->substr(0, space) : std::string();
	if (!digest || (source != "learned" && source != "approved"))
	{
		_context.counters.badMessages.fetch_add(1, std::memory_order_relaxed);
		return;
	}
	// The tag covers the key, "<digest> <source>" and the signing time.
	Envelope::Opened opened;
	const auto verdict =
		space == std::string::npos
			? Envelope::Verdict::MALFORMED
			: _context.envelope.openText(key, *digest + " " + source + value->substr(space), _context.nowMs(), opened);
	if (verdict != Envelope::Verdict::OK)
	{
		_context.rejected("a stored pin", verdict);
		return;
	}
	PinEvent event;
	event.kind = source == "approved" ? PinEvent::Kind::APPROVED : PinEvent::Kind::LEARNED;
	event.name = name;
	event.sha256 = *digest;
	deliver(event, opened.signedMs);
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
