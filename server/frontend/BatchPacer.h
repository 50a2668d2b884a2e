// BatchPacer.h - decides when a UDP listener waits a little before its next receive (adaptive batching).
#pragma once

#include <chrono>

namespace dnsproxy::frontend
{

/// Interrupt moderation for a UDP socket, like a network card's adaptive coalescing: under a
/// steady stream of queries, each wake-up of the listener thread costs more than the work on the
/// query it brings (the kernel's scheduler and socket wake-up are most of a cache hit's CPU). So
/// while the stream is dense, the listener sleeps `wait` after answering a batch and then takes
/// everything that queued up meanwhile with one recvmmsg: fewer wake-ups per query, at the price
/// of up to `wait` of added latency. It never delays a lone query:
///   - waiting starts only when two receives return less than wait / 4 apart (a stream of at
///     least about 4 queries per window), and a full batch (more already queued) never waits;
///   - waiting stops as soon as a window brought fewer than 2 queries.
/// wait = 0 turns it off. Threading: none; one per listener thread.
class BatchPacer
{
public:
	using Clock = std::chrono::steady_clock;

	explicit BatchPacer(std::chrono::microseconds wait):
		_wait(wait)
	{
	}

	/// After a receive that returned `count` datagrams (`full`: as many as it could take) at
	/// `now`: true when the listener should sleep wait() before the next receive.
	bool afterReceive(int count, bool full, Clock::time_point now)
	{
		if (_wait.count() <= 0)
			return false;
		bool dense;
		if (_waiting)
			dense = count >= 2; // what one window collected
		else
			dense = count >= 2 || now - _lastReceive < _wait / 4;
		_lastReceive = now;
		_waiting = dense && !full;
		return _waiting;
	}

	std::chrono::microseconds wait() const
	{
		return _wait;
	}

private:
	std::chrono::microseconds _wait;
	Clock::time_point _lastReceive{};
	bool _waiting = false;
};

} // namespace dnsproxy::frontend
