// SharedCache.cpp - pipelined GET/PTTL lookups on a small thread pool; writes through RedisWriter.
#include "fleet/SharedCache.h"

#include "dns/Message.h"
#include "dns/TtlWalker.h"

namespace dnsproxy::fleet
{

namespace
{
constexpr size_t BATCH = 32;
}

SharedCache::SharedCache(FleetContext& context, RedisWriter& writer, const cache::CacheSettings& cacheSettings,
						 size_t threads, size_t capacity):
	_context(context),
	_writer(writer),
	_policy(cacheSettings),
	_threads(std::max<size_t>(1, threads)),
	_capacity(capacity)
{
}

SharedCache::~SharedCache()
{
	stop();
}

void SharedCache::start()
{
	_workers.start([this] { run(); }, _threads);
}

void SharedCache::stop()
{
	std::deque<Lookup> left;
	_workers.stop();
	{
		std::lock_guard<std::mutex> lock(_workers.mutex());
		left.swap(_queue);
	}
	for (auto& lookup : left)
		lookup.done(std::nullopt);
}

void SharedCache::lookup(const std::string& key, Callback done)
{
	if (_context.breaker.allow())
	{
		std::unique_lock<std::mutex> lock(_workers.mutex());
		if (!_workers.stopping() && _queue.size() < _capacity)
		{
			_queue.push_back(Lookup{key, std::move(done), std::chrono::steady_clock::now()});
			lock.unlock();
			_workers.notifyOne();
			return;
		}
	}
	_context.counters.skipped.fetch_add(1, std::memory_order_relaxed);
	done(std::nullopt);
}

void SharedCache::store(const std::string& key, const uint8_t* answer, size_t len)
{
	RedisWriter::Item item;
	item.cacheKey = key;
	item.answer.assign(answer, answer + len);
	_writer.push(std::move(item));
}

void SharedCache::run()
{
	RedisConnection connection(_context.target, _context.timeoutMs);
	std::unique_lock<std::mutex> lock(_workers.mutex());
	for (;;)
	{
		_workers.condition().wait(lock, [this] { return _workers.stopping() || !_queue.empty(); });
		if (_workers.stopping())
			return;
		std::vector<Lookup> batch;
		while (!_queue.empty() && batch.size() < BATCH)
		{
			batch.push_back(std::move(_queue.front()));
			_queue.pop_front();
		}
		lock.unlock();
		ask(connection, batch);
		lock.lock();
	}
}

void SharedCache::ask(RedisConnection& connection, std::vector<Lookup>& batch)
{
	std::vector<Lookup> asking = stillWaiting(batch);
	if (asking.empty())
		return;
	std::vector<Poco::Redis::RedisType::Ptr> replies;
	if (!fetch(connection, asking, replies))
	{
		for (auto& lookup : asking)
			lookup.done(std::nullopt);
		return;
	}
	const int64_t wallMs = _context.nowMs();
	for (size_t i = 0; i < asking.size(); ++i)
	{
		std::optional<std::vector<uint8_t>> answer;
		if (2 * i + 1 < replies.size())
			answer = answerOf(asking[i].key, replies[2 * i], replies[2 * i + 1], wallMs);
		(answer ? _context.counters.hits : _context.counters.misses).fetch_add(1, std::memory_order_relaxed);
		asking[i].done(std::move(answer));
	}
}

std::vector<SharedCache::Lookup> SharedCache::stillWaiting(std::vector<Lookup>& batch)
{
	// Whoever waited too long already, or finds the breaker open, goes upstream without Redis.
	const auto now = std::chrono::steady_clock::now();
	const auto limit = std::chrono::milliseconds(_context.timeoutMs);
	std::vector<Lookup> asking;
	for (auto& lookup : batch)
	{
		if (now - lookup.queued >= limit || !_context.breaker.allow())
		{
			_context.counters.skipped.fetch_add(1, std::memory_order_relaxed);
			lookup.done(std::nullopt);
		}
		else
			asking.push_back(std::move(lookup));
	}
	return asking;
}

bool SharedCache::fetch(RedisConnection& connection, const std::vector<Lookup>& asking,
						std::vector<Poco::Redis::RedisType::Ptr>& replies)
{
	std::vector<Poco::Redis::Array> commands;
	commands.reserve(asking.size() * 2);
	for (const auto& lookup : asking)
	{
		const std::string key = _context.keys.cacheKey(lookup.key);
		Poco::Redis::Array get, pttl;
		get << "GET" << key;
		pttl << "PTTL" << key;
		commands.push_back(std::move(get));
		commands.push_back(std::move(pttl));
	}
	// The client that has waited longest gets no more than timeoutMs from Redis in all,
	// a reconnect (TLS handshake, AUTH) included.
	auto oldest = asking.front().queued;
	for (const auto& lookup : asking)
		oldest = std::min(oldest, lookup.queued);
	connection.setDeadline(oldest + std::chrono::milliseconds(_context.timeoutMs));
	try
	{
		connection.ensure(_context.breaker.generation());
		replies = connection.run(commands);
		connection.clearDeadline();
		_context.breaker.recordSuccess();
		return true;
	}
	catch (const Poco::Exception& e)
	{
		connection.clearDeadline();
		_context.failed("lookup", e);
		return false;
	}
}

std::optional<std::vector<uint8_t>> SharedCache::answerOf(const std::string& key,
														  const Poco::Redis::RedisType::Ptr& valueReply,
														  const Poco::Redis::RedisType::Ptr& pttlReply, int64_t wallMs)
{
	auto value = bulkString(valueReply);
	auto pttl = integer(pttlReply);
	if (value && pttl && _context.envelope.enabled())
	{
		Envelope::Opened opened;
		const auto verdict = _context.envelope.open(_context.keys.cacheKey(key), *value, wallMs, opened);
		if (verdict == Envelope::Verdict::OK)
		{
			// Whatever Redis says its expiry is, the value lives no longer than it was signed for.
			const int64_t left = opened.signedMs + int64_t(opened.ttlS) * 1000 - wallMs;
			return fromRedis(opened.content, std::min(*pttl, left), _policy);
		}
		_context.rejected("a cached answer", verdict);
		return std::nullopt;
	}
	if (value && pttl)
		return fromRedis(*value, *pttl, _policy);
	return std::nullopt;
}

std::optional<std::vector<uint8_t>> SharedCache::fromRedis(const std::string& value, int64_t pttlMs,
														   const cache::TtlPolicy& policy)
{
	// PTTL: -2 gone, -1 no expiry (not written by a proxy); under a second left is not worth it.
	if (pttlMs < 1000)
		return std::nullopt;
	std::vector<uint8_t> answer(value.begin(), value.end());
	dns::MessageInfo info;
	if (dns::parseMessage(answer.data(), answer.size(), info) != dns::ParseError::NONE || !info.header.qr())
		return std::nullopt;
	const auto verdict = policy.admit(answer, info);
	if (verdict.kind != cache::TtlPolicy::Kind::POSITIVE && verdict.kind != cache::TtlPolicy::Kind::NEGATIVE)
		return std::nullopt;
	const uint32_t remaining = static_cast<uint32_t>(std::min<int64_t>(pttlMs / 1000, UINT32_MAX));
	if (verdict.ttl > remaining && !dns::ageTtls(answer.data(), answer.size(), verdict.ttl - remaining))
		return std::nullopt;
	return answer;
}

} // namespace dnsproxy::fleet
