// ConnectionLifetime.cpp - connect back-off, idle closing and the learned server idle limit.
#include "upstream/ConnectionLifetime.h"

#include <algorithm>

namespace dnsproxy::upstream
{

namespace
{
/// Doublings of FIRST_CONNECT_BACKOFF before MAX_CONNECT_BACKOFF caps it (250 ms << 3 = 2 s).
constexpr unsigned MAX_CONNECT_DOUBLINGS = 3;
} // namespace

ConnectionLifetime::ConnectionLifetime(std::chrono::milliseconds idleTimeout, Clock::time_point now):
	_idleTimeout(idleTimeout),
	_lastUse(now),
	_lastReceive(now)
{
}

std::chrono::milliseconds ConnectionLifetime::connectFailed(Clock::time_point now)
{
	++_connectFailures;
	_lastAttempt = now;
	auto backoff = std::min(MAX_CONNECT_BACKOFF,
							FIRST_CONNECT_BACKOFF * (1u << std::min(_connectFailures - 1, MAX_CONNECT_DOUBLINGS)));
	_retryAt.store((now + backoff).time_since_epoch().count(), std::memory_order_relaxed);
	return backoff;
}

void ConnectionLifetime::opened(Clock::time_point now)
{
	_connectFailures = 0;
	_retryAt.store(0, std::memory_order_relaxed);
	_lastUse = _lastReceive = now;
	_sentOnStream = 0;
	_answersOnStream = 0;
}

void ConnectionLifetime::reset()
{
	_connectFailures = 0;
	_retryAt.store(0, std::memory_order_relaxed);
}

bool ConnectionLifetime::learnAnswerLimitFromClose(Clock::time_point now, size_t inflight)
{
	// Closed while idle long enough: that is the idle limit's business (learnFromClose).
	if (inflight == 0 && now - std::max(_lastUse, _lastReceive) >= MIN_LEARNED_IDLE)
		return false;
	const uint32_t answers = _answersOnStream;
	if (answers == 0)
		return false; // nothing answered: a broken stream, not a limit
	// Once is not a habit (a restart closes after any count); the same count twice in a row is.
	const bool confirmed = answers == _answerCandidate;
	_answerCandidate = answers;
	if (!confirmed || (_answerLimit != 0 && _answerLimit <= answers))
		return false;
	_answerLimit = answers;
	return true;
}

bool ConnectionLifetime::learnIdleLimit(uint32_t ms)
{
	uint32_t limit = _serverIdleMs ? std::min(_serverIdleMs, ms) : ms;
	if (limit == _serverIdleMs)
		return false;
	_serverIdleMs = limit;
	return true;
}

bool ConnectionLifetime::learnFromClose(Clock::time_point now)
{
	auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - std::max(_lastUse, _lastReceive));
	if (idle < MIN_LEARNED_IDLE)
		return false;
	return learnIdleLimit(static_cast<uint32_t>(idle.count()));
}

bool ConnectionLifetime::nearServerIdleLimit(Clock::time_point now) const
{
	if (_serverIdleMs == 0)
		return false;
	uint32_t margin =
		std::max<uint32_t>(static_cast<uint32_t>(MIN_IDLE_MARGIN.count()), _serverIdleMs / IDLE_MARGIN_DIVISOR);
	auto reuseFor = std::chrono::milliseconds(_serverIdleMs > margin ? _serverIdleMs - margin : 0);
	return now - std::max(_lastUse, _lastReceive) >= reuseFor;
}

bool ConnectionLifetime::idleExpired(Clock::time_point now) const
{
	return now - _lastUse >= _idleTimeout || nearServerIdleLimit(now);
}

} // namespace dnsproxy::upstream
