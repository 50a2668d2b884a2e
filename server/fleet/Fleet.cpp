// Fleet.cpp - wiring of the fleet parts and the breaker's background prober.
#include "fleet/Fleet.h"

#include "fleet/Sentinel.h"

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
	_context(settings.url, settings.timeoutMs, settings.keyPrefix, settings.breaker, randomOrigin(), settings.caFile,
			 settings.secret),
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
	if (_context.envelope.enabled())
		_pins->start();
	else
		_context.logger.warning("no fleet secret is set: answers read from Redis %s are trusted as they are, and pins "
								"are not shared",
								_context.target.describe());
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
	RedisConnection connection(_context.target, _context.timeoutMs);
	std::unique_ptr<Sentinel> sentinel;
	if (_context.target.url().scheme == RedisUrl::Scheme::SENTINEL)
		sentinel = std::make_unique<Sentinel>(_context.target, _context.timeoutMs);
	auto nextWatch = std::chrono::steady_clock::now();
	bool reportedDown = false;
	uint64_t attempt = 0;
	std::unique_lock<std::mutex> lock(_prober.mutex());
	while (!_prober.stopping())
	{
		// Also while the breaker is open: a failover announced during an outage is probed at once
		// instead of at the end of the back-off.
		if (sentinel && std::chrono::steady_clock::now() >= nextWatch)
		{
			lock.unlock();
			nextWatch = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
			followSwitch(*sentinel);
			lock.lock();
			continue;
		}
		if (!_context.breaker.probeDue())
		{
			const auto wait = std::min(_context.breaker.untilProbe(), std::chrono::milliseconds(100));
			_prober.condition().wait_for(lock, std::max(wait, std::chrono::milliseconds(5)));
			continue;
		}
		lock.unlock();
		probeOnce(connection, sentinel.get(), attempt, reportedDown);
		lock.lock();
	}
}

void Fleet::followSwitch(Sentinel& sentinel)
{
	const auto before = _context.target.describe();
	if (auto moved = sentinel.watch(); moved && _context.target.setEndpoint(*moved))
	{
		_context.logger.warning("redis %s: +switch-master, master now %s; reconnecting", before, moved->hostAndPort());
		_context.breaker.trip();
	}
}

void Fleet::probeOnce(RedisConnection& connection, Sentinel* sentinel, uint64_t& attempt, bool& reportedDown)
{
	try
	{
		if (sentinel)
			sentinel->resolve();      // the master may have moved: a failover is found through the error
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
			_context.logger.information("redis %s: reachable; sharing cache%s", _context.target.describe(),
										std::string(_context.envelope.enabled() ? " and pins" : ""));
		}
		reportedDown = false;
	}
	catch (const Poco::Exception& e)
	{
		connection.close();
		_context.counters.errors.fetch_add(1, std::memory_order_relaxed);
		_context.breaker.probeFailed();
		if (!reportedDown && _context.breaker.opens() == 0)
			_context.logger.warning("redis %s: cannot be used (%s); serving with local state only, retrying in "
									"the background",
									_context.target.describe(), e.displayText());
		reportedDown = true;
	}
}

void Fleet::fillStats(stats::StatsSnapshot::Fleet& out) const
{
	const FleetCounters& c = _context.counters;
	out.enabled = true;
	out.redis = _context.target.describe();
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
	out.rejected = c.rejected.load(std::memory_order_relaxed);
}

} // namespace dnsproxy::fleet
