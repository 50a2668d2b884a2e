// ConnectionLifetime.h - when an upstream connection may connect, must close, and what idle limit its server has.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dnsproxy::upstream
{

/// The lifetime rules of one upstream connection, without a socket and without a clock (every
/// method takes `now`):
/// - connect back-off: after each failed connect the next attempt waits FIRST_CONNECT_BACKOFF,
///   doubling up to MAX_CONNECT_BACKOFF; short, because the selector already keeps clients away
///   from a dead server, this only spaces the attempts; a successful connect resets it;
/// - our idle limit: a connection unused for `idleTimeout` is closed;
/// - the server's idle limit, learned from its EDNS keepalive timeout (RFC 7828) or from the idle
///   time after which it closed one of ours, kept across reconnects (it is a property of the
///   server): reuse stops a margin before it, so that a reconnect happens between queries and no
///   query is written into a connection the server is tearing down;
/// - the server's answer limit: a server that closes its connections after N answers (with queries
///   still in flight, or right after the N-th answer, so not for idleness) twice in a row at the
///   same N has that limit; from then on at most N queries are written on one connection, and
///   the next connection is opened when they are answered, so no query is written into a
///   connection the server is about to close. Kept across reconnects; only ever lowered;
/// - last resort: while every server is down, a query may start a connect during the back-off,
///   at most one per FIRST_CONNECT_BACKOFF, so a returning server is found by the next query;
/// - reset(): an operator changed what the TLS check accepts (a pin approved): the back-off ends
///   at once.
///
/// Threading: backingOff() from any thread (the pool's order); everything else on the
/// connection's I/O thread.
class ConnectionLifetime
{
public:
	using Clock = std::chrono::steady_clock;

	static constexpr std::chrono::milliseconds FIRST_CONNECT_BACKOFF{250};
	static constexpr std::chrono::milliseconds MAX_CONNECT_BACKOFF{2000};
	/// A server close after less idle time than this teaches nothing about its idle limit.
	static constexpr std::chrono::milliseconds MIN_LEARNED_IDLE{200};
	/// Reuse stops this long before the server's limit: a fifth of it, at least MIN_IDLE_MARGIN.
	static constexpr uint32_t IDLE_MARGIN_DIVISOR = 5;
	static constexpr std::chrono::milliseconds MIN_IDLE_MARGIN{200};

	explicit ConnectionLifetime(std::chrono::milliseconds idleTimeout, Clock::time_point now);

	/// True while connecting backs off after failures.
	bool backingOff(Clock::time_point now) const
	{
		return now.time_since_epoch().count() < _retryAt.load(std::memory_order_relaxed);
	}
	/// True when a query may connect at `now` although connecting backs off: every server is
	/// down (`lastResort`) and the last attempt is FIRST_CONNECT_BACKOFF old.
	bool mayConnect(Clock::time_point now, bool lastResort) const
	{
		return !backingOff(now) || (lastResort && now - _lastAttempt >= FIRST_CONNECT_BACKOFF);
	}
	/// A connect failed at `now`; returns the back-off before the next attempt.
	std::chrono::milliseconds connectFailed(Clock::time_point now);
	/// A connection was opened at `now`: the back-off ends, the idle clocks and the stream's
	/// query counts start.
	void opened(Clock::time_point now);
	/// The back-off ends now (the next connect may happen at once); nothing else changes.
	void reset();

	/// `queries` (one or more) were written at `now`.
	void used(Clock::time_point now, size_t queries = 1)
	{
		_lastUse = now;
		_sentOnStream += queries;
	}
	/// An answer arrived on the current stream.
	void answered()
	{
		++_answersOnStream;
	}
	/// Something was received at `now`.
	void received(Clock::time_point now)
	{
		if (now > _lastReceive)
			_lastReceive = now;
	}

	/// The server announced (or showed) an idle limit of `ms`; the smallest one seen is kept.
	/// True when the limit changed.
	bool learnIdleLimit(uint32_t ms);
	/// The server closed the connection at `now` with nothing in flight: its idle limit is at most
	/// the time since the last exchange. True when the limit changed.
	bool learnFromClose(Clock::time_point now);
	/// The server closed the current stream at `now`, cleanly, with `inflight` queries unanswered
	/// on it: a close after N answers that was not for idleness is a sign of an answer limit, and
	/// the second one in a row at the same N sets it. True when the limit changed.
	bool learnAnswerLimitFromClose(Clock::time_point now, size_t inflight);
	/// The server's answer limit per connection; 0 = none known.
	uint32_t answerLimit() const
	{
		return _answerLimit;
	}
	/// Queries that may still be written on the current stream (SIZE_MAX without a known limit).
	size_t sendBudget() const
	{
		if (_answerLimit == 0)
			return SIZE_MAX;
		return _sentOnStream < _answerLimit ? _answerLimit - _sentOnStream : 0;
	}
	/// True when the current stream has been given as many queries as the server answers on one.
	bool streamExhausted() const
	{
		return sendBudget() == 0;
	}
	/// Answers received on the current stream.
	uint32_t answersOnStream() const
	{
		return _answersOnStream;
	}

	/// The server's idle limit in ms; 0 = not known yet.
	uint32_t serverIdleMs() const
	{
		return _serverIdleMs;
	}

	/// True when an idle connection (nothing in flight) is too close to the server's idle limit
	/// to be reused.
	bool nearServerIdleLimit(Clock::time_point now) const;
	/// True when an idle connection should be closed: our idle limit or the server's is reached.
	bool idleExpired(Clock::time_point now) const;
	/// When an idle connection reaches our idle limit.
	Clock::time_point idleDeadline() const
	{
		return _lastUse + _idleTimeout;
	}

private:
	std::chrono::milliseconds _idleTimeout;
	std::atomic<Clock::rep> _retryAt{0};
	unsigned _connectFailures = 0;
	Clock::time_point _lastAttempt{}; ///< of the last failed connect
	Clock::time_point _lastUse;
	Clock::time_point _lastReceive;
	uint32_t _serverIdleMs = 0;
	size_t _sentOnStream = 0;
	uint32_t _answersOnStream = 0;
	uint32_t _answerCandidate = 0; ///< answers before the last close that suggested a limit
	uint32_t _answerLimit = 0;
};

} // namespace dnsproxy::upstream
