// CircuitBreaker.h - decides whether Redis may be asked at all, and when to probe it again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

namespace dnsproxy::fleet
{

struct BreakerSettings
{
	uint32_t failureThreshold = 1; ///< consecutive failed calls that open the breaker
	uint32_t probeMinMs = 200;     ///< first probe this long after opening
	uint32_t probeMaxMs = 2000;    ///< back-off doubles up to this
};

/// Two states. CLOSED: Redis is used. OPEN: every Redis call is skipped at once (a miss for
/// lookups; writes wait in their queue), and only the fleet's background prober talks to Redis,
/// at probeMinMs, then doubling up to probeMaxMs; a successful probe (connect + PING) closes it.
/// So a slow, absent or restarting Redis costs a client at most one timeoutMs: the call that
/// failed opens the breaker for everybody else. It starts OPEN with a probe due at once, so a
/// proxy whose Redis is absent never waits for it, not even on its first query.
///
/// Every call that closes or opens bumps generation(): connections made under an older
/// generation are dropped and made again, since a Redis that went away took them with it.
///
/// Threading: allow() and generation() are lock-free reads (the DNS hot path asks allow());
/// state changes take `_mutex`. The clock is injected for tests.
class CircuitBreaker
{
public:
	using Clock = std::function<std::chrono::steady_clock::time_point()>;

	explicit CircuitBreaker(const BreakerSettings& settings, Clock clock = nullptr);

	bool allow() const
	{
		return !_open.load(std::memory_order_acquire);
	}
	uint64_t generation() const
	{
		return _generation.load(std::memory_order_acquire);
	}

	void recordSuccess();
	/// True when this failure opened the breaker.
	bool recordFailure();
	/// Opens at once whatever the failure count (the master moved), the next probe due now and
	/// the back-off reset (also when it was open already).
	void trip();
	/// Open and the next probe is due.
	bool probeDue() const;
	void probeFailed();
	/// Closes the breaker; true when it was open.
	bool probeSucceeded();

	uint64_t opens() const
	{
		return _opens.load(std::memory_order_relaxed);
	}
	/// Time until the next probe is due (zero when due or closed), for the prober's wait.
	std::chrono::milliseconds untilProbe() const;

private:
	std::chrono::steady_clock::time_point now() const;

	BreakerSettings _settings;
	Clock _clock;
	mutable std::mutex _mutex;
	std::atomic<bool> _open{true};
	std::atomic<uint64_t> _generation{0};
	std::atomic<uint64_t> _opens{0};
	uint32_t _failures = 0;
	uint32_t _backoffMs;
	std::chrono::steady_clock::time_point _nextProbe;
};

} // namespace dnsproxy::fleet
