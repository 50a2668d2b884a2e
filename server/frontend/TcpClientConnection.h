// TcpClientConnection.h - one client stream connection (TCP or DoT): 2-byte framing, pipelining, out-of-order answers.
#pragma once

#include "dns/TcpFramer.h"
#include "frontend/ClientStream.h"
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

/// The counters of an encrypted transport (DoT or DoH) in the front end's statistics.
inline stats::EncryptedStats& encryptedStats(stats::FrontendStats& stats, Transport transport)
{
	return transport == Transport::DOH ? stats.doh : stats.dot;
}

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
	/// Encrypted listeners: a TLS handshake not finished this long after accept closes the connection.
	uint32_t handshakeTimeoutMs = 5000;
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
/// The bytes travel through a ClientStream: plain TCP, or TLS for DoT (RFC 7858: the same framing
/// and pipelining). An encrypted connection first finishes its handshake (tls_handshake_timeout_ms,
/// see expiry()); until then it holds a connection slot but is idle, so it is among the first closed
/// to make room. DohClientConnection (DoH) reuses everything but the framing through the protected
/// hooks below.
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

	/// Why the loop's tick closes a connection.
	enum class Expiry
	{
		NONE,
		IDLE,     ///< nothing owed either way for idleTimeoutMs, or answers unread that long
		HANDSHAKE ///< TLS handshake not finished within handshakeTimeoutMs
	};

	TcpClientConnection(EventLoop& loop, Poco::Net::StreamSocket socket, const Poco::Net::SocketAddress& peer,
						std::unique_ptr<ClientStream> stream, Transport transport, QueryHandler& handler,
						stats::FrontendStats& stats, const TcpLimits& limits, OutputBudget& budget,
						CloseCallback onClose);
	~TcpClientConnection() override;

	void start();
	void onReadable() override;
	void onWritable() override;
	/// EPOLLERR/EPOLLHUP: the client reset or is gone both ways; nothing can reach it any more, so
	/// the connection closes at once (its unwritten answers give their bytes back to the budget).
	/// Waiting for a read to notice would never happen while reading is paused.
	void onError() override;

	/// Loop thread: queue the answer to query `tag` (DoH's request id; 0 on TCP and DoT), and write.
	virtual void deliver(uint64_t tag, std::vector<uint8_t>&& answer);
	/// Loop thread: no answer will come for query `tag`.
	virtual void answerDropped(uint64_t tag);

	/// Loop thread: whether the tick must close this connection now, and why.
	Expiry expiry(EventLoop::Clock::time_point now) const;
	Transport transport() const
	{
		return _transport;
	}

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

protected:
	/// Bytes read from the stream: DNS framing here (parseFrames), HTTP in DohClientConnection.
	virtual void takeInput(const uint8_t* data, size_t length);
	/// Whether reading may go on (the limits in TcpLimits, for DoH also the HTTP session's).
	virtual bool mayRead() const
	{
		return mayTakeQuery();
	}
	/// Input read but not handled yet that may go once answers drain (the framer's queued frames).
	virtual bool inputWaiting() const
	{
		return _framer.partial();
	}
	/// Whether one batch of input may gather several reads (TLS records) before it is handled.
	virtual bool batchReads() const
	{
		return true;
	}
	/// Handles what inputWaiting() said is there, and settles.
	virtual void resumeInput()
	{
		parseFrames();
	}
	/// Called once the TLS handshake (if any) is done, before the first read of data.
	virtual void onEstablished()
	{
	}
	/// The handler dropped query `tag` without an answer (unparsable): TCP and DoT stay silent.
	virtual void droppedAtOnce(uint64_t tag)
	{
		(void)tag;
	}
	/// Whether the protocol wants the connection closed once its output is written (HTTP).
	virtual bool closeWhenWritten() const
	{
		return false;
	}

	/// Hands one query to the QueryHandler; an answer known at once goes to `answerNow`.
	/// Returns false when the connection closed meanwhile.
	bool submitQuery(const uint8_t* query, size_t length, uint64_t tag,
					 const std::function<void(std::vector<uint8_t>&)>& answerNow);
	/// One query fewer awaits its answer (answered or dropped); writes and settles.
	void finishQuery();
	bool closed() const
	{
		return _closed;
	}
	/// Raw bytes appended to the output buffer (DoH: HTTP output); not written yet.
	std::vector<uint8_t>& outputForAppend();
	/// Brings the OutputBudget in line with outputBytes().
	void account();
	/// Writes what it can, resumes taking queued input when the limits allow again, settles.
	void flush();
	bool mayTakeQuery() const
	{
		return _limits.mayTakeQuery(_inflight, outputBytes(), _budget.exhausted());
	}
	stats::FrontendStats& frontendStats()
	{
		return _stats;
	}
	uint32_t inflight() const
	{
		return _inflight;
	}
	ClientStream& stream()
	{
		return *_stream;
	}
	const TcpLimits& limits() const
	{
		return _limits;
	}
	bool outputEmpty() const
	{
		return _outputOffset == _output.size();
	}
	size_t outputBytes() const
	{
		return _output.size() - _outputOffset;
	}

private:
	/// Takes the queries waiting in the framer while the limits allow, writes their answers, and
	/// goes on while the client keeps reading them.
	void parseFrames();
	/// Reads into `buffer` until it is full, the stream has nothing more, or (batchReads() false)
	/// after one read; returns the last read's result (OK when the buffer filled).
	ClientStream::Io readBatch(uint8_t* buffer, size_t capacity, size_t& filled);
	/// Drives the TLS handshake; on success counts it and goes on to read.
	void advanceHandshake();
	/// The query counter of this connection's transport.
	std::atomic<uint64_t>& queryCounter();
	/// Appends the framed answer to the output buffer (not written yet); false when it is too long
	/// to frame.
	bool queueAnswer(const uint8_t* answer, size_t length);
	/// send()s buffered answers until the socket would block; false when the connection closed.
	bool writeOutput();
	/// After writing: closes past the hard limit or at a finished half-close, else updateInterest().
	void settle();
	void updateInterest();

	EventLoop& _loop;
	Poco::Net::StreamSocket _socket;
	int _fd;
	Poco::Net::SocketAddress _peer;
	std::unique_ptr<ClientStream> _stream;
	Transport _transport;
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
	bool _handshaking = false;    ///< TLS handshake not finished
	bool _readWantsWrite = false; ///< a TLS read waits for the socket to be writable
	bool _writeWantsRead = false; ///< a TLS write waits for the socket to be readable
	bool _handshakeWantsWrite = false;
	EventLoop::Clock::time_point _acceptedAt;
	EventLoop::Clock::time_point _lastActivity;      ///< last complete query read or answer byte written
	EventLoop::Clock::time_point _lastWriteProgress; ///< last answer byte written, or output became non-empty
};

} // namespace dnsproxy::frontend
