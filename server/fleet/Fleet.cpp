// Fleet.cpp - wiring of the fleet parts and the breaker's background prober.
#include "fleet/Fleet.h"

#include <random>

namespace dnsproxy::fleet
{

namespace
{

std::string randomOrigin()
{
	std::random_device random;
	char text[17];
	std::snprintf(text, sizeof text, "%08x%08x", random(), random());
	return text;
}

} // namespace

Fleet::Fleet(const FleetSettings& settings, const cache::CacheSettings& cacheSettings, PinChannel::Apply applyPin):
	_context(settings.url, settings.timeoutMs, settings.keyPrefix, settings.breaker, randomOrigin()),
	_writer(std::make_unique<RedisWriter>(_context, cacheSettings, settings.writeQueue)),
	_cache(
		std::make_unique<SharedCache>(_context, *_writer, cacheSettings, settings.lookupThreads, settings.lookupQueue)),
	_pins(std::make_unique<PinChannel>(_context, *_writer, std::move(applyPin)))
{
}

Fleet::~Fleet()
{
	stop();
}

void Fleet::start()
{
	std::lock_guard<std::mutex> lock(_mutex);
	if (_started)
		return;
	_started = true;
	_writer->start();
	_cache->start();
	_pins->start();
	_prober.start([this] { probe(); });
}

void Fleet::stop()
{
	_prober.stop();
	_pins->stop();
	_cache->stop();
	_writer->stop();
}

void Fleet::probe()
{
	RedisConnection connection(_context.url, _context.timeoutMs);
	bool reportedDown = false;
	uint64_t attempt = 0;
	std::unique_lock<std::mutex> lock(_prober.mutex());
	while (!_prober.stopping())
	{
		if (!_context.breaker.probeDue())
		{
			const auto wait = std::min(_context.breaker.untilProbe(), std::chrono::milliseconds(100));
			_prober.condition().wait_for(lock, std::max(wait, std::chrono::milliseconds(5)));
			continue;
		}
		lock.unlock();
		try
		{
			connection.ensure(++attempt); // always a fresh connection: it tests connect as well
			Poco::Redis::Array ping;
			ping << "PING";
			auto replies = connection.run({ping});
			if (replies.empty() || isError(replies.front()))
				throw Poco::ProtocolException("no PONG");
			connection.close();
			if (_context.breaker.probeSucceeded())
			{
				_context.counters.reconnects.fetch_add(1, std::memory_order_relaxed);
				_context.logger.information("redis %s: reachable; sharing cache and pins", _context.url.hostAndPort());
			}
			reportedDown = false;
		}
		catch (const Poco::Exception& e)
		{
			connection.close();
			_context.counters.errors.fetch_add(1, std::memory_order_relaxed);
			_context.breaker.probeFailed();
			if (!reportedDown && _context.breaker.opens() == 0)
				_context.logger.warning("redis %s: unreachable (%s); serving with local state only, retrying in "
										"the background",
										_context.url.hostAndPort(), e.displayText());
			reportedDown = true;
		}
		lock.lock();
	}
}

void Fleet::fillStats(stats::StatsSnapshot::Fleet& out) const
{
	const FleetCounters& c = _context.counters;
	out.enabled = true;
	out.redis = _context.url.hostAndPort();
	out.breakerOpen = !_context.breaker.allow();
	out.subscribed = _pins->subscribed();
	out.hits = c.hits.load(std::memory_order_relaxed);
	out.misses = c.misses.load(std::memory_order_relaxed);
	out.errors = c.errors.load(std::memory_order_relaxed);
	out.skipped = c.skipped.load(std::memory_order_relaxed);
	out.writes = c.writes.load(std::memory_order_relaxed);
	out.writesDropped = c.writesDropped.load(std::memory_order_relaxed);
	out.breakerOpens = _context.breaker.opens();
	out.reconnects = c.reconnects.load(std::memory_order_relaxed);
	out.pinsPublished = c.pinsPublished.load(std::memory_order_relaxed);
	out.pinsApplied = c.pinsApplied.load(std::memory_order_relaxed);
	out.badMessages = c.badMessages.load(std::memory_order_relaxed);
}

} // namespace dnsproxy::fleet
