// TcpClientConnection.h - one client TCP connection: 2-byte framing, pipelining, out-of-order answers.
#pragma once

#include "dns/TcpFramer.h"
#include "frontend/EventLoop.h"
#include "frontend/OutputBudget.h"
#include "frontend/QueryHandler.h"
#include "frontend/RegisteredConnection.h"
#include "stats/Stats.h"

#include <Poco/Net/StreamSocket.h>

#include <functional>
#include <memory>

namespace dnsproxy::frontend
{

/// Answers buffered for one client: past this, its next queries wait unread (see TcpLimits).
constexpr size_t MAX_OUTPUT_BYTES = 1 << 20;
/// Answers buffered for all TCP clients together (OutputBudget): 32 clients at their limit.
constexpr size_t MAX_TOTAL_OUTPUT_BYTES = 32 << 20;
/// Answers that come later (from the upstream) for queries already taken may grow one client's
/// buffer to this many times MAX_OUTPUT_BYTES; past it the connection is closed.
constexpr size_t HARD_OUTPUT_FACTOR = 4;

/// Limits for client TCP connections (idleTimeoutMs from [server]; SPEC has no keys for the rest).
///
/// Output: a connection takes its next query only while it has fewer than maxOutputBytes of
/// answers unwritten and the process's OutputBudget (maxTotalOutputBytes) is not exhausted; with
/// nothing unwritten it always may (a client that reads is served one answer at a time whatever
/// others hold). Queries not taken stay in the framer and reading pauses. Each query taken adds
/// at most one answer (64 KiB), so a client that does not read holds at most maxOutputBytes + one
/// answer from cache hits. Answers that arrive later for queries already taken (at most
/// maxInflightPerConnection) are buffered, but a connection is closed once it holds more than
/// HARD_OUTPUT_FACTOR x maxOutputBytes, or more than maxOutputBytes while the budget is
/// exhausted: its unread answers are what the process is short of. A client that reads nothing
/// is closed by the write-stall timeout (idleTimeoutMs without an answer byte written).
struct TcpLimits
{
	uint32_t idleTimeoutMs = 10000;
	uint32_t maxInflightPerConnection = 256; ///< pipelined queries awaiting answers
	size_t maxOutputBytes = MAX_OUTPUT_BYTES;
	size_t maxTotalOutputBytes = MAX_TOTAL_OUTPUT_BYTES; ///< the OutputBudget's limit (Frontend)

	/// May a connection with `inflight` queries awaiting answers and `buffered` answer bytes
	/// unwritten take another query?
	bool mayTakeQuery(uint32_t inflight, size_t buffered, bool budgetExhausted) const
	{
		return inflight < maxInflightPerConnection &&
			   (buffered == 0 || (buffered < maxOutputBytes && !budgetExhausted));
	}
	/// Must a connection holding `buffered` unwritten answer bytes be closed?
	bool overHardLimit(size_t buffered, bool budgetExhausted) const
	{
		return buffered > maxOutputBytes * HARD_OUTPUT_FACTOR || (buffered > maxOutputBytes && budgetExhausted);
	}
};

/// Reads length-prefixed queries (RFC 1035 4.2.2) and writes each answer as soon as it is ready
/// (RFC 7766 6.2.1.1), in whatever order answers arrive.
///
/// Activity, for the idle timeout, is a complete query read or answer bytes written; single bytes
/// do not count, so a client that trickles a query a byte at a time (slowloris) or stalls inside a
/// frame is closed after idleTimeoutMs like an idle one. Answers the client does not read are
/// bounded per connection and in total as TcpLimits describes: the queries of one read are taken
/// only while the limits allow, the rest wait in the framer with reading paused, and the
/// connection is closed when no answer byte could be written for idleTimeoutMs.
///
/// Answers known at once (QueryHandler::handleRaw: cache hits, error answers) are queued while the
/// frames of one read are handled and written together with one send() afterwards.
///
/// It publishes its idleness and last activity to the ConnectionRegistry (RegisteredConnection)
/// and leaves the registry when it closes.
///
/// Threading: lives on one EventLoop; every method runs on that loop's thread, except evict()
/// (the registry, from any accepting thread), which only posts a close to that loop. Answers made
/// later on other threads reach it through a TcpResponder, which posts to the loop and holds
/// only a weak_ptr, so an answer for a connection that has gone away is simply dropped.
class TcpClientConnection: public IoHandler,
						   public RegisteredConnection,
						   public std::enable_shared_from_this<TcpClientConnection>
{
public:
	using CloseCallback = std::function<void(TcpClientConnection&)>;

	TcpClientConnection(EventLoop& loop, Poco::Net::StreamSocket socket, const Poco::Net::SocketAddress& peer,
						QueryHandler& handler, stats::FrontendStats& stats, const TcpLimits& limits,
						OutputBudget& budget, CloseCallback onClose);
	~TcpClientConnection() override;

	void start();
	void onReadable() override;
	void onWritable() override;

	/// Loop thread: queue an answer for writing, and write.
	void deliver(std::vector<uint8_t>&& answer);
	void answerDropped();

	/// Loop thread: closes the socket (idempotent), leaves the registry and tells the owner.
	void close();
	/// Any thread (RegisteredConnection): posts close() to this connection's loop.
	void evict() override;

	bool isClosed() const
	{
		return _closed;
	}
	bool isIdle() const
	{
		return _inflight == 0 && outputEmpty();
	}
	EventLoop::Clock::time_point lastActivity() const
	{
		return _lastActivity;
	}
	/// Answers are waiting and not one byte of them could be written since `since`.
	bool writeStalledSince(EventLoop::Clock::time_point since) const
	{
		return !outputEmpty() && _lastWriteProgress < since;
	}
	int fd() const
	{
		return _fd;
	}

private:
	/// Takes the queries waiting in the framer while the limits allow, writes their answers, and
	/// goes on while the client keeps reading them.
	void parseFrames();
	bool mayTakeQuery() const
	{
		return _limits.mayTakeQuery(_inflight, outputBytes(), _budget.exhausted());
	}
	/// Appends the framed answer to the output buffer (not written yet); false when it is too long
	/// to frame.
	bool queueAnswer(const uint8_t* answer, size_t length);
	/// Writes what it can, resumes taking queued queries when the limits allow again, settles.
	void flush();
	/// send()s buffered answers until the socket would block; false when the connection closed.
	bool writeOutput();
	/// After writing: closes past the hard limit or at a finished half-close, else updateInterest().
	void settle();
	/// Brings the OutputBudget in line with outputBytes().
	void account();
	void updateInterest();
	bool outputEmpty() const
	{
		return _outputOffset == _output.size();
	}
	size_t outputBytes() const
	{
		return _output.size() - _outputOffset;
	}

	EventLoop& _loop;
	Poco::Net::StreamSocket _socket;
	int _fd;
	Poco::Net::SocketAddress _peer;
	QueryHandler& _handler;
	stats::FrontendStats& _stats;
	TcpLimits _limits;
	OutputBudget& _budget;
	size_t _accounted = 0; ///< bytes this connection has added to _budget
	CloseCallback _onClose;
	dns::TcpFramer _framer;
	std::vector<uint8_t> _query;  ///< the query being handled (capacity reused)
	std::vector<uint8_t> _answer; ///< an answer made at once (capacity reused)
	/// Framed answers back to back, written from _outputOffset on: every answer ready after one
	/// read goes out in one send().
	std::vector<uint8_t> _output;
	size_t _outputOffset = 0;
	uint32_t _inflight = 0;
	bool _readPaused = false; ///< no query may be taken now (TcpLimits::mayTakeQuery): EPOLLIN off
	bool _eof = false;        ///< the client half-closed; answers still owed are written
	bool _interestRead = true;
	bool _interestWrite = false;
	bool _closed = false;
	EventLoop::Clock::time_point _lastActivity;      ///< last complete query read or answer byte written
	EventLoop::Clock::time_point _lastWriteProgress; ///< last answer byte written, or output became non-empty
};

} // namespace dnsproxy::frontend
