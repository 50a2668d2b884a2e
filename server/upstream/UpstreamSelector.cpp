// UpstreamSelector.cpp - strategy order, down marking with probe back-off, smoothed latency.
#include "upstream/UpstreamSelector.h"

#include <algorithm>

namespace dnsproxy::upstream
{

namespace
{
/// Back-off doublings before MAX_DOWN_BACKOFF caps it (1 s << 5 = 32 s > 30 s).
constexpr uint32_t MAX_BACKOFF_DOUBLINGS = 5;
} // namespace

UpstreamSelector::UpstreamSelector(SelectionStrategy strategy, size_t servers, std::chrono::milliseconds timeout):
	_strategy(strategy),
	_count(servers),
	_health(new Health[servers]),
	_timeout(timeout)
{
}

std::vector<size_t> UpstreamSelector::order(const std::vector<bool>& connectable)
{
	std::vector<size_t> result(_count);
	for (size_t i = 0; i < result.size(); ++i)
		result[i] = i;
	uint64_t tick = _tick.fetch_add(1, std::memory_order_relaxed);
	if (_strategy == SelectionStrategy::ROUND_ROBIN && !result.empty())
	{
		std::rotate(result.begin(), result.begin() + static_cast<std::ptrdiff_t>(tick % result.size()), result.end());
	}
	else if (_strategy == SelectionStrategy::FASTEST && result.size() > 1)
	{
		// Servers without a sample yet sort first, so each gets measured.
		std::stable_sort(result.begin(), result.end(),
						 [this](size_t a, size_t b) { return srttMicros(a) < srttMicros(b); });
		if (tick % EXPLORE_EVERY == EXPLORE_EVERY - 1)
		{
			size_t other = 1 + (tick / EXPLORE_EVERY) % (result.size() - 1);
			std::swap(result[0], result[other]);
		}
	}
	std::stable_partition(result.begin(), result.end(),
						  [&](size_t i) { return up(i) && (i >= connectable.size() || connectable[i]); });
	return result;
}

bool UpstreamSelector::up(size_t i) const
{
	return _health[i].downUntil.load(std::memory_order_relaxed) == 0;
}

uint32_t UpstreamSelector::srttMicros(size_t i) const
{
	return _health[i].srttMicros.load(std::memory_order_relaxed);
}

bool UpstreamSelector::allDown() const
{
	for (size_t i = 0; i < _count; ++i)
	{
		if (up(i))
			return false;
	}
	return true;
}

bool UpstreamSelector::claimProbe(size_t i, Clock::time_point now)
{
	Health& health = _health[i];
	const int64_t until = health.downUntil.load(std::memory_order_relaxed);
	const int64_t ticks = now.time_since_epoch().count();
	if (until == 0)
		return false;
	if (ticks < until)
	{
		// The back-off spares a server nobody needs; when all are down, it is needed.
		const int64_t interval = std::chrono::duration_cast<Clock::duration>(ALL_DOWN_PROBE_INTERVAL).count();
		if (!allDown() || ticks < health.lastProbe.load(std::memory_order_relaxed) + interval)
			return false;
	}
	if (health.probing.exchange(true))
		return false;
	health.lastProbe.store(ticks, std::memory_order_relaxed);
	return true;
}

UpstreamSelector::Change UpstreamSelector::probeDone(size_t i, bool answered, Clock::time_point sent,
													 Clock::time_point now)
{
	Health& health = _health[i];
	Change result;
	if (answered)
		result = recordSuccess(health, now);
	else
	{
		health.downCount.fetch_add(1, std::memory_order_relaxed);
		health.downUntil.store(0, std::memory_order_relaxed); // re-armed below with a longer back-off
		result = recordFailure(health, sent, now);
	}
	health.probing.store(false);
	return result;
}

bool UpstreamSelector::reset(size_t i)
{
	Health& health = _health[i];
	health.downCount.store(0, std::memory_order_relaxed);
	return health.downUntil.exchange(0, std::memory_order_relaxed) != 0;
}

UpstreamSelector::Change UpstreamSelector::answered(size_t i, Clock::time_point sent, Clock::time_point now)
{
	Health& health = _health[i];
	auto micros = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - sent).count());
	uint32_t old = health.srttMicros.load(std::memory_order_relaxed);
	health.srttMicros.store(old == 0 ? micros : (old * (SRTT_SMOOTHING - 1) + micros) / SRTT_SMOOTHING,
							std::memory_order_relaxed);
	return recordSuccess(health, now);
}

UpstreamSelector::Change UpstreamSelector::failed(size_t i, bool timedOut, Clock::time_point sent,
												  Clock::time_point now)
{
	Health& health = _health[i];
	// A server that timed out counts as slow for `fastest`.
	if (timedOut)
	{
		auto floor = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(_timeout).count());
		health.srttMicros.store(std::max<uint32_t>(health.srttMicros.load() * 2, floor), std::memory_order_relaxed);
	}
	return recordFailure(health, sent, now);
}

UpstreamSelector::Change UpstreamSelector::recordSuccess(Health& health, Clock::time_point now)
{
	health.lastSuccess.store(now.time_since_epoch().count(), std::memory_order_relaxed);
	Change change;
	change.cameUp = health.downUntil.exchange(0, std::memory_order_relaxed) != 0;
	health.downCount.store(0, std::memory_order_relaxed);
	return change;
}

UpstreamSelector::Change UpstreamSelector::recordFailure(Health& health, Clock::time_point sent, Clock::time_point now)
{
	// One slow name is not a dead server: only when nothing at all was answered since this query
	// went out is the server taken out of rotation.
	if (health.lastSuccess.load(std::memory_order_relaxed) >= sent.time_since_epoch().count())
		return {};
	uint32_t count = std::min(health.downCount.load(std::memory_order_relaxed), MAX_BACKOFF_DOUBLINGS);
	auto backoff = std::min(MAX_DOWN_BACKOFF, FIRST_DOWN_BACKOFF * (1u << count));
	int64_t until = (now + backoff).time_since_epoch().count();
	health.lastProbe.store(now.time_since_epoch().count(), std::memory_order_relaxed);
	Change change;
	if (health.downUntil.exchange(until, std::memory_order_relaxed) == 0)
		change.markedDownFor = backoff;
	return change;
}

} // namespace dnsproxy::upstream
