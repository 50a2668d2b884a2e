// RedisWriter.cpp - background, pipelined writes of shared cache entries and pin updates.
#include "fleet/RedisWriter.h"

#include "dns/Header.h"
#include "dns/Message.h"

namespace dnsproxy::fleet
{

namespace
{
constexpr size_t BATCH = 256;
}

RedisWriter::RedisWriter(FleetContext& context, const cache::CacheSettings& cacheSettings, size_t capacity):
	_context(context),
	_policy(cacheSettings),
	_capacity(capacity),
	_connection(context.target, context.timeoutMs)
{
}

RedisWriter::~RedisWriter()
{
	stop();
}

void RedisWriter::start()
{
	_sender.start([this] { run(); });
}

void RedisWriter::stop()
{
	_sender.stop();
}

bool RedisWriter::push(Item&& item)
{
	{
		std::lock_guard<std::mutex> lock(_sender.mutex());
		if (_queue.size() < _capacity && !_sender.stopping())
		{
			item.queued = std::chrono::steady_clock::now();
			_queue.push_back(std::move(item));
			_sender.notifyOne();
			return true;
		}
	}
	_context.counters.writesDropped.fetch_add(1, std::memory_order_relaxed);
	return false;
}

size_t RedisWriter::queued() const
{
	std::lock_guard<std::mutex> lock(_sender.mutex());
	return _queue.size();
}

void RedisWriter::run()
{
	std::unique_lock<std::mutex> lock(_sender.mutex());
	for (;;)
	{
		if (_queue.empty() || !_context.breaker.allow())
		{
			if (_sender.stopping())
				break;
			// The breaker closes without telling anyone: look again every 50 ms while items wait.
			_sender.condition().wait_for(lock, std::chrono::milliseconds(50));
			continue;
		}
		std::vector<Item> batch;
		while (!_queue.empty() && batch.size() < BATCH)
		{
			batch.push_back(std::move(_queue.front()));
			_queue.pop_front();
		}
		const bool last = _sender.stopping();
		lock.unlock();
		send(batch);
		lock.lock();
		if (last)
			break; // one attempt at shutdown, never a wait
	}
}

bool RedisWriter::addCacheCommand(Item& item, std::vector<Poco::Redis::Array>& out) const
{
	dns::MessageInfo info;
	if (dns::parseMessage(item.answer.data(), item.answer.size(), info) != dns::ParseError::NONE)
		return false;
	const auto verdict = _policy.admit(item.answer, info);
	// SERVFAIL stays local: one proxy's trouble reaching an upstream is not the fleet's answer.
	if (verdict.kind == cache::TtlPolicy::Kind::NOT_CACHED || verdict.kind == cache::TtlPolicy::Kind::SERVFAIL)
		return false;
	const auto waited =
		std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - item.queued).count();
	const int64_t px = int64_t(verdict.ttl) * 1000 - waited;
	if (px <= 0)
		return false;
	dns::writeId(item.answer.data(), 0);
	const std::string key = _context.keys.cacheKey(item.cacheKey);
	std::string value(reinterpret_cast<const char*>(item.answer.data()), item.answer.size());
	if (_context.envelope.enabled())
		value = _context.envelope.seal(key, value, _context.nowMs(), static_cast<uint32_t>((px + 999) / 1000));
	Poco::Redis::Array set;
	set << "SET" << key << value << "PX" << std::to_string(px);
	out.push_back(std::move(set));
	return true;
}

void RedisWriter::send(std::vector<Item>& batch)
{
	std::vector<Poco::Redis::Array> commands;
	for (auto& item : batch)
	{
		if (item.cacheKey.empty())
			commands.insert(commands.end(), item.commands.begin(), item.commands.end());
		else
			addCacheCommand(item, commands);
	}
	if (commands.empty())
		return;
	try
	{
		_connection.ensure(_context.breaker.generation());
		_connection.run(commands);
		_context.breaker.recordSuccess();
		_context.counters.writes.fetch_add(commands.size(), std::memory_order_relaxed);
	}
	catch (const Poco::Exception& e)
	{
		_context.failed("write", e);
		std::lock_guard<std::mutex> lock(_sender.mutex());
		for (auto it = batch.rbegin(); it != batch.rend(); ++it)
		{
			if (it->cacheKey.empty() && _queue.size() < _capacity)
				_queue.push_front(std::move(*it));
			else
				_context.counters.writesDropped.fetch_add(1, std::memory_order_relaxed);
		}
	}
}

} // namespace dnsproxy::fleet
