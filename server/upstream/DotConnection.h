// DotConnection.h - one persistent, pipelined DNS-over-TLS connection (RFC 7858) to one server.
#pragma once

#include "stats/Stats.h"
#include "upstream/AnswerCheck.h"
#include "upstream/ConnectionLifetime.h"
#include "upstream/DotSession.h"
#include "upstream/PinSource.h"
#include "upstream/TlsConnector.h"
#include "upstream/UpstreamClient.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace dnsproxy::upstream
{

/// One TLS stream to one upstream. The protocol (framing, pipelining, ID remapping, answer checks,
/// timeouts, the retry rule) is DotSession's; the lifetime rules (connect back-off, idle limits)
/// are ConnectionLifetime's; the TLS policy is TlsConnector's. This class owns the socket and the
/// I/O thread, and feeds the others.
///
/// Threading: OpenSSL forbids two threads on one SSL object, so each DotConnection has exactly one
/// I/O thread that connects, writes, reads and times out. submit() may be called from any thread:
/// it appends to a queue under `_mutex` and wakes the I/O thread through an eventfd. Callbacks run
/// on the I/O thread, except when submit() refuses a query because the connection is stopping:
/// then on the caller's thread.
///
/// Life cycle: the connection is opened on demand by the first query, closed after `idleTimeoutMs`
/// without queries, and reopened (resuming the TLS session when the server allows) whenever a query
/// arrives after the server closed it. Queries in flight on a connection the server closed after
/// answering on it go on the next one while their deadlines allow; after a broken one (reset,
/// garbage, silence, nothing ever answered) they are retried once (DotSession::Loss). A server's
/// answer limit, once learned (ConnectionLifetime), bounds the queries written on one connection.
///
/// Time: every deadline is taken from the injected `clock` (steady_clock::now by default).
class DotConnection
{
public:
	using Callback = UpstreamClient::Callback;
	using Clock = std::chrono::steady_clock;
	using ClockSource = std::function<Clock::time_point()>;

	DotConnection(const ServerEndpoint& server, Poco::Net::Context::Ptr context, const ConnectionSettings& settings,
				  stats::UpstreamStats& stats, PinSource* pins = nullptr, ClockSource clock = &Clock::now);
	~DotConnection();
	DotConnection(const DotConnection&) = delete;
	DotConnection& operator=(const DotConnection&) = delete;

	/// Thread-safe. `done` is always called exactly once (see Threading). `sent` describes the
	/// query's opcode and question (from its one parse); answers that do not fit it are refused.
	void submit(std::vector<uint8_t>&& query, const SentQuestion& sent, Callback done);

	/// Queries submitted and not yet answered (for picking the least loaded connection).
	uint32_t load() const
	{
		return _session.load();
	}
	/// True while connecting is backing off after failures.
	bool backingOff() const
	{
		return _lifetime.backingOff(_clock());
	}

	/// Thread-safe: what the TLS check accepts has changed (a pin approved, pins reloaded). The I/O
	/// thread ends the connect back-off, drops the current stream (its queries go on the next) and
	/// connects at once, under the new rules.
	void reconnectNow();

	/// Any thread: every server of the pool is down (or backing off), so a query may connect
	/// during the back-off (ConnectionLifetime::mayConnect).
	void setLastResort(bool lastResort)
	{
		_lastResort.store(lastResort, std::memory_order_relaxed);
	}

	/// Fails everything pending and joins the I/O thread.
	void stop();

private:
	using Pending = DotSession::Pending;
	using Loss = DotSession::Loss;

	void run();
	void step();
	void waitForEvents(Clock::time_point now);
	void takeSubmitted();
	void wake();
	bool connect();
	void connected(Poco::Net::StreamSocket socket);
	void disconnect(const char* reason, DotSession::Loss loss);
	/// How the stream the server just closed ended: gracefully when it answered on it.
	DotSession::Loss lossOnClose() const;
	void sendWaiting();
	void flushOutput();
	void readAvailable();
	void answered(const dns::MessageInfo& info);
	/// The server's idle limit changed: counter and debug line.
	void publishIdleLimit();
	int pollTimeoutMs(Clock::time_point now) const;
	/// Logs an upstream fault (garbage, unknown ID, question mismatch, broken stream) as a warning at
	/// most once per FAULT_LOG_INTERVAL; the next warning says how many were not logged meanwhile.
	void noteFault(const char* what, const std::string& detail = std::string());

	ServerEndpoint _server;
	ConnectionSettings _settings;
	stats::UpstreamStats& _stats;
	Poco::Logger& _logger;
	ClockSource _clock;

	// Shared with submitters.
	std::mutex _mutex;
	std::vector<Pending> _submitted;
	std::atomic<bool> _stopping{false};
	std::atomic<bool> _reconnectRequested{false};
	std::atomic<bool> _lastResort{false};
	int _wakeFd = -1;

	// Owned by the I/O thread (load() and backingOff() are atomic reads).
	std::mt19937 _random;
	DotSession _session;
	ConnectionLifetime _lifetime;
	TlsConnector _connector;
	std::thread _thread;
	Poco::Net::StreamSocket _socket; ///< a SecureStreamSocket, or a plain one after an opportunistic fallback
	bool _connected = false;
	std::vector<uint8_t> _output;
	size_t _outputOffset = 0;     ///< _output before this is written
	size_t _frameLeft = 0;        ///< bytes of the first message in _output not written yet (0: read its prefix)
	size_t _retryWriteLength = 0; ///< OpenSSL wants a retried SSL_write repeated with the same length
	bool _loggedDown = false;
	Clock::time_point _faultLogUntil{};
	uint64_t _faultsNotLogged = 0;
};

} // namespace dnsproxy::upstream
