// DotSession.h - the DNS-over-TCP protocol of one upstream connection, without the socket and without a clock.
#pragma once

#include "dns/TcpFramer.h"
#include "stats/Stats.h"
#include "upstream/AnswerCheck.h"
#include "upstream/UpstreamClient.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace dnsproxy::upstream
{

/// The queries of one pipelined stream to one server (RFC 7766 section 7): waiting ones, and up to
/// `maxInflight` in flight under a message ID unique on the stream; answers are matched by that
/// ID in whatever order they come, checked against their query (checkAnswer), and handed back
/// under the client's ID.
///
/// Rules kept here, all driven by the `now` the caller passes:
/// - a query not answered by its deadline times out; when nothing at all was received since it
///   was sent, expire() reports the stream silent (probably half-open), and when the stream did
///   carry messages before (it went silent, rather than a server that never answers), the
///   query's result says `silent`, so the pool may try it once more on a fresh stream;
/// - when the stream is lost, the queries in flight go back to the front of the waiting queue:
///   after a graceful close (the server answered on the stream, then closed it: its answer or idle
///   limit, a restart) every time, as long as each query's deadline allows; after a broken stream
///   (nothing answered on it, a reset, garbage) once, and a query that already was retried fails;
/// - an answer with an unknown ID is ignored (usually late, after its timeout); an answer that is
///   too short, does not fit its query or carries a client-private option that cannot be removed
///   makes received() return false: the stream cannot be trusted and must be dropped.
///
/// The session writes frames into the caller's output buffer and reads what the caller received;
/// it never touches a socket, so a test feeds it bytes and a fake time.
///
/// Threading: one thread (the connection's I/O thread) calls everything, except load() and
/// countSubmitted(), which any thread may call.
class DotSession
{
public:
	using Callback = UpstreamClient::Callback;
	using Clock = std::chrono::steady_clock;
	/// Told about each upstream fault (for the throttled warning): what, and a detail or "".
	using FaultSink = std::function<void(const char* what, const std::string& detail)>;
	/// Message IDs for the stream; a test injects a sequence to force collisions.
	using IdSource = std::function<uint16_t()>;

	struct Pending
	{
		std::vector<uint8_t> query; ///< as sent upstream (prepared; the client ID in the first two bytes)
		SentQuestion question;      ///< what its answer must echo
		Callback done;
		Clock::time_point deadline;
		Clock::time_point sent;
		bool retried = false; ///< already retried after a broken stream (a graceful close does not count)
	};

	DotSession(uint32_t maxInflight, stats::UpstreamStats& stats, IdSource ids, FaultSink faults);

	/// Any thread: a query was submitted to the connection (it counts in load() until finished).
	void countSubmitted()
	{
		_load.fetch_add(1, std::memory_order_relaxed);
	}
	/// Queries submitted and not yet finished (for picking the least loaded connection).
	uint32_t load() const
	{
		return _load.load(std::memory_order_relaxed);
	}

	/// Queues a query counted with countSubmitted().
	void enqueue(Pending&& pending);
	/// Calls the query's callback with `status` (once) and stops counting it.
	void finish(Pending& pending, UpstreamResult::Status status, std::vector<uint8_t>&& answer = {},
				bool silent = false);

	/// How a stream ended, for lost().
	enum class Loss
	{
		ABANDONED, ///< we gave up on it (shutting down): what is in flight fails
		BROKEN,    ///< reset, garbage, silence: what is in flight is retried once
		GRACEFUL   ///< the server closed it after answering on it: retried while the deadline allows
	};

	/// Moves waiting queries in flight (up to maxInflight, and at most `limit`), each framed into
	/// `output` under a new ID. Returns the number sent.
	size_t sendWaiting(std::vector<uint8_t>& output, Clock::time_point now, size_t limit = SIZE_MAX);
	/// Bytes read from the stream. False when the stream must be dropped (see the class comment);
	/// the caller then calls lost(). `onAnswer` sees each accepted answer's parse (EDNS keepalive).
	bool received(const uint8_t* data, size_t length, Clock::time_point now,
				  const std::function<void(const dns::MessageInfo&)>& onAnswer = {});
	/// Times out what passed its deadline. True when a query in flight timed out with nothing
	/// received since it was sent (the caller should drop the stream).
	bool expire(Clock::time_point now);
	/// The stream is gone: partial input is dropped; queries in flight go back to the front of the
	/// queue or fail, as `loss` says (see the class comment).
	void lost(Loss loss);
	/// Fails every waiting query (unreachable server, or shutting down).
	void failWaiting(bool countFailures);

	/// The earliest deadline, or `limit` when none is earlier.
	Clock::time_point nextDeadline(Clock::time_point limit) const;
	bool hasWaiting() const
	{
		return !_waiting.empty();
	}
	size_t inflight() const
	{
		return _inflight.size();
	}
	bool idle() const
	{
		return _waiting.empty() && _inflight.empty();
	}
	/// When an answer (or any message) was last received.
	Clock::time_point lastReceive() const
	{
		return _lastReceive;
	}
	/// Sets the time of the last receive (the stream was just opened).
	void resetReceive(Clock::time_point now)
	{
		_lastReceive = now;
		_streamSpoke = false;
	}

private:
	/// False when the stream must be dropped.
	bool handleAnswer(const std::vector<uint8_t>& message, Clock::time_point now,
					  const std::function<void(const dns::MessageInfo&)>& onAnswer);
	uint16_t freshId();

	uint32_t _maxInflight;
	stats::UpstreamStats& _stats;
	IdSource _ids;
	FaultSink _faults;
	std::atomic<uint32_t> _load{0};
	std::deque<Pending> _waiting;
	std::unordered_map<uint16_t, Pending> _inflight;
	dns::TcpFramer _framer;
	std::vector<uint8_t> _message; ///< reused by received()
	Clock::time_point _lastReceive{};
	bool _streamSpoke = false; ///< a message arrived on the stream since resetReceive()
};

} // namespace dnsproxy::upstream
