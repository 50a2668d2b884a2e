// TcpClientConnection.h - one client TCP connection: 2-byte framing, pipelining, out-of-order answers.
#pragma once

#include "dns/TcpFramer.h"
#include "frontend/EventLoop.h"
#include "frontend/QueryHandler.h"
#include "stats/Stats.h"

#include <Poco/Net/StreamSocket.h>

#include <functional>
#include <memory>

namespace dnsproxy::frontend
{

/// Limits for client TCP connections (from [server]).
struct TcpLimits
{
	uint32_t idleTimeoutMs = 10000;
	uint32_t maxInflightPerConnection = 256; ///< pipelined queries awaiting answers
	size_t maxOutputBytes = 1 << 20;         ///< answers buffered for a client that does not read
};

/// Reads length-prefixed queries (RFC 1035 4.2.2) and writes each answer as soon as it is ready
/// (RFC 7766 6.2.1.1), in whatever order answers arrive.
///
/// Activity, for the idle timeout, is a complete query read or answer bytes written; single bytes
/// do not count, so a client that trickles a query a byte at a time (slowloris) or stalls inside a
/// frame is closed after idleTimeoutMs like an idle one. Answers the client does not read are
/// buffered up to maxOutputBytes (then reading pauses) and the connection is closed when no
/// answer byte could be written for idleTimeoutMs, or past 4 x maxOutputBytes.
///
/// Answers known at once (QueryHandler::handleRaw: cache hits, error answers) are queued while the
/// frames of one read are handled and written together with one send() afterwards.
///
/// Threading: lives on one EventLoop; every method runs on that loop's thread. Answers made
/// later on other threads reach it through a TcpResponder, which posts to the loop and holds
/// only a weak_ptr, so an answer for a connection that has gone away is simply dropped.
class TcpClientConnection: public IoHandler, public std::enable_shared_from_this<TcpClientConnection>
{
public:
	using CloseCallback = std::function<void(TcpClientConnection&)>;

	TcpClientConnection(EventLoop& loop, Poco::Net::StreamSocket socket, const Poco::Net::SocketAddress& peer,
						QueryHandler& handler, stats::FrontendStats& stats, const TcpLimits& limits,
						CloseCallback onClose);
	~TcpClientConnection() override;

	void start();
	void onReadable() override;
	void onWritable() override;

	/// Loop thread: queue an answer for writing, and write.
	void deliver(std::vector<uint8_t>&& answer);
	void answerDropped();

	/// Loop thread: closes the socket (idempotent) and tells the owner.
	void close();

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
	void parseFrames();
	/// Appends the framed answer to the output buffer (not written yet); false when it is too long
	/// to frame.
	bool queueAnswer(const uint8_t* answer, size_t length);
	void flush();
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
	CloseCallback _onClose;
	dns::TcpFramer _framer;
	std::vector<uint8_t> _query;  ///< the query being handled (capacity reused)
	std::vector<uint8_t> _answer; ///< an answer made at once (capacity reused)
	/// Framed answers back to back, written from _outputOffset on: every answer ready after one
	/// read goes out in one send().
	std::vector<uint8_t> _output;
	size_t _outputOffset = 0;
	uint32_t _inflight = 0;
	bool _readPaused = false; ///< pipeline full or client not reading: EPOLLIN off
	bool _eof = false;        ///< the client half-closed; answers still owed are written
	bool _interestRead = true;
	bool _interestWrite = false;
	bool _closed = false;
	EventLoop::Clock::time_point _lastActivity;      ///< last complete query read or answer byte written
	EventLoop::Clock::time_point _lastWriteProgress; ///< last answer byte written, or output became non-empty
};

} // namespace dnsproxy::frontend
