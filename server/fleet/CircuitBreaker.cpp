// CircuitBreaker.cpp - open on failure, probe with back-off, close on a successful probe.
#include "fleet/CircuitBreaker.h"

#include <algorithm>

namespace dnsproxy::fleet
{

CircuitBreaker::CircuitBreaker(const BreakerSettings& settings, Clock clock):
	_settings(settings),
	_clock(std::move(clock)),
	_backoffMs(settings.probeMinMs),
	_nextProbe(now())
{
}

std::chrono::steady_clock::time_point CircuitBreaker::now() const
{
	return _clock ? _clock() : std::chrono::steady_clock::now();
}

void CircuitBreaker::recordSuccess()
{
	std::lock_guard<std::mutex> lock(_mutex);
	_failures = 0;
}

bool CircuitBreaker::recordFailure()
{
	std::lock_guard<std::mutex> lock(_mutex);
	if (_open.load(std::memory_order_relaxed))
		return false;
	if (++_failures < std::max<uint32_t>(1, _settings.failureThreshold))
		return false;
	_failures = 0;
	_backoffMs = _settings.probeMinMs;
	_nextProbe = now() + std::chrono::milliseconds(_backoffMs);
	_open.store(true, std::memory_order_release);
	_generation.fetch_add(1, std::memory_order_acq_rel);
	_opens.fetch_add(1, std::memory_order_relaxed);
	return true;
}

void CircuitBreaker::trip()
{
	std::lock_guard<std::mutex> lock(_mutex);
	_backoffMs = _settings.probeMinMs;
	_nextProbe = now();
	if (_open.load(std::memory_order_relaxed))
		return; // open already: only the probe is brought forward
	_failures = 0;
	_open.store(true, std::memory_order_release);
	_generation.fetch_add(1, std::memory_order_acq_rel);
	_opens.fetch_add(1, std::memory_order_relaxed);
}

bool CircuitBreaker::probeDue() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _open.load(std::memory_order_relaxed) && now() >= _nextProbe;
}

std::chrono::milliseconds CircuitBreaker::untilProbe() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	if (!_open.load(std::memory_order_relaxed))
		return std::chrono::milliseconds(0);
	const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(_nextProbe - now());
	return std::max(left, std::chrono::milliseconds(0));
}

void CircuitBreaker::probeFailed()
{
	std::lock_guard<std::mutex> lock(_mutex);
	_nextProbe = now() + std::chrono::milliseconds(_backoffMs);
	_backoffMs = std::min(_settings.probeMaxMs, _backoffMs * 2);
}

bool CircuitBreaker::probeSucceeded()
{
	std::lock_guard<std::mutex> lock(_mutex);
	if (!_open.load(std::memory_order_relaxed))
		return false;
	_failures = 0;
	_backoffMs = _settings.probeMinMs;
	_generation.fetch_add(1, std::memory_order_acq_rel);
	_open.store(false, std::memory_order_release);
	return true;
}

} // namespace dnsproxy::fleet
