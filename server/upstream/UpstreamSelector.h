// UpstreamSelector.h - which server a query tries first: strategy order, down marking, probes, latency.
#pragma once

#include "upstream/UpstreamSettings.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace dnsproxy::upstream
{

/// The pool's choice between servers, with no sockets and no clock of its own: every method that
/// depends on time takes `now`, so a test drives hours of failures in microseconds.
///
/// - order() lists the server indexes in the order a query tries them: `failover` as configured,
///   `round_robin` rotated by one per query, `fastest` by smoothed latency (servers without a
///   sample first, so each gets measured) with one query in EXPLORE_EVERY sent first to another
///   server, so a server that got faster is noticed. Servers that are down or cannot connect go
///   last, in the same relative order.
/// - Health: a failed or timed-out query marks its server down only when nothing at all was
///   answered by it since the query was sent (one slow name is not a dead server). A down server
///   stays down until ONE probe answers; the probe is due when the back-off expires, and each
///   failed probe doubles the back-off (FIRST_DOWN_BACKOFF up to MAX_DOWN_BACKOFF). While every
///   server is down, a probe is due ALL_DOWN_PROBE_INTERVAL after the last one whatever the
///   back-off says: with nowhere else to go, a server's return must be noticed within seconds.
///
/// Threading: every method may be called from any thread (connection I/O threads report, the
/// frontend threads order); the state is per-server atomics, relaxed: a stale read costs at most
/// one query on a worse server.
class UpstreamSelector
{
public:
	using Clock = std::chrono::steady_clock;

	/// `fastest` sends one query in this many to a server other than the fastest first.
	static constexpr uint64_t EXPLORE_EVERY = 16;
	/// Back-off of a server marked down before its first probe; doubled per failed probe.
	static constexpr std::chrono::milliseconds FIRST_DOWN_BACKOFF{1000};
	/// The longest a down server waits for its next probe.
	static constexpr std::chrono::milliseconds MAX_DOWN_BACKOFF{30000};
	/// While every server is down, the longest between two probes of each.
	static constexpr std::chrono::milliseconds ALL_DOWN_PROBE_INTERVAL{1000};
	/// Weight of the old value in the smoothed latency (srtt = (old * (N-1) + sample) / N).
	static constexpr uint32_t SRTT_SMOOTHING = 8;

	/// What a report changed, for the caller's log line.
	struct Change
	{
		bool cameUp = false;                        ///< a down server answered
		std::chrono::milliseconds markedDownFor{0}; ///< >0: the server was just marked down this long
	};

	/// `timeout` is the per-attempt budget: a server that timed out counts as at least that slow.
	UpstreamSelector(SelectionStrategy strategy, size_t servers, std::chrono::milliseconds timeout);

	size_t size() const
	{
		return _count;
	}

	/// The order for the next query. `connectable[i]` is false while all of server i's
	/// connections back off after connect failures (it then goes last like a down server).
	std::vector<size_t> order(const std::vector<bool>& connectable);

	/// False from a failure that marked server i down until a probe of it is answered.
	bool up(size_t i) const;
	/// True when no server is up.
	bool allDown() const;

	/// True once per due probe: server i is down, its back-off has expired and no probe of it is
	/// running. The caller then sends the probe and reports it with probeDone().
	bool claimProbe(size_t i, Clock::time_point now);
	/// Result of a probe claimed with claimProbe(). An answer brings the server up (its latency is
	/// not sampled: ". NS" says nothing about client names); a failure lengthens the back-off.
	Change probeDone(size_t i, bool answered, Clock::time_point sent, Clock::time_point now);

	/// A query sent at `sent` was answered at `now`: the server is up, its latency is sampled.
	Change answered(size_t i, Clock::time_point sent, Clock::time_point now);
	/// A query sent at `sent` failed (or timed out: `timedOut`, which also makes it count as slow).
	Change failed(size_t i, bool timedOut, Clock::time_point sent, Clock::time_point now);

	/// Server i is up again at once, with no back-off (what its TLS check accepts was changed by an
	/// operator: a pin approved). True when it was down.
	bool reset(size_t i);

	/// Smoothed latency in microseconds; 0 = no sample yet.
	uint32_t srttMicros(size_t i) const;
	/// Queries ordered so far (also a cheap source of varying probe IDs).
	uint64_t ticks() const
	{
		return _tick.load(std::memory_order_relaxed);
	}

private:
	struct Health
	{
		std::atomic<uint32_t> srttMicros{0};
		std::atomic<int64_t> lastSuccess{INT64_MIN}; ///< Clock ticks of the last answer
		std::atomic<int64_t> downUntil{0};           ///< Clock ticks; 0 = up
		std::atomic<int64_t> lastProbe{0};           ///< Clock ticks of the last probe or down marking
		std::atomic<uint32_t> downCount{0};          ///< consecutive failed probes (back-off exponent)
		std::atomic<bool> probing{false};
	};

	static Change recordSuccess(Health& health, Clock::time_point now);
	static Change recordFailure(Health& health, Clock::time_point sent, Clock::time_point now);

	SelectionStrategy _strategy;
	size_t _count;
	std::unique_ptr<Health[]> _health;
	std::chrono::milliseconds _timeout;
	std::atomic<uint64_t> _tick{0};
};

} // namespace dnsproxy::upstream
