// DotConnection.h - one persistent, pipelined DNS-over-TLS connection (RFC 7858) to one server.
#pragma once

#include "stats/Stats.h"
#include "upstream/AnswerCheck.h"
#include "upstream/PinSource.h"
#include "upstream/UpstreamClient.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/Session.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

namespace dnsproxy::upstream
{

/// One TLS stream to one upstream: 2-byte length framing, up to `maxInflight` queries pipelined,
/// answers matched by a message ID that is rewritten to be unique on the connection and restored
/// for the client, in whatever order the server answers (RFC 7766 section 7).
///
/// Threading: OpenSSL forbids two threads on one SSL object, so each DotConnection has exactly one
/// I/O thread that connects, writes, reads and times out. submit() may be called from any thread:
/// it appends to a queue under `_mutex` and wakes the I/O thread through an eventfd. Callbacks run
/// on the I/O thread.
///
/// Life cycle: the connection is opened on demand by the first query, closed after `idleTimeoutMs`
/// without queries, and reopened (resuming the TLS session when the server allows) whenever a query
/// arrives after the server closed it. Queries in flight on a connection that dies are retried once
/// on the next one; a query that already was retried fails.
class DotConnection
{
public:
	using Callback = UpstreamClient::Callback;
	using Clock = std::chrono::steady_clock;

	DotConnection(const ServerEndpoint& server, Poco::Net::Context::Ptr context, const ConnectionSettings& settings,
				  stats::UpstreamStats& stats, PinSource* pins = nullptr);
	~DotConnection();
	DotConnection(const DotConnection&) = delete;
	DotConnection& operator=(const DotConnection&) = delete;

	/// Thread-safe. `done` is always called exactly once, on the I/O thread. `sent` describes the
	/// query's opcode and question (from its one parse); answers that do not fit it are refused.
	void submit(std::vector<uint8_t>&& query, const SentQuestion& sent, Callback done);

	/// Queries submitted and not yet answered (for picking the least loaded connection).
	uint32_t load() const
	{
		return _load.load(std::memory_order_relaxed);
	}
	/// True while connecting is backing off after failures.
	bool backingOff() const
	{
		return Clock::now() < Clock::time_point(Clock::duration(_retryAt.load()));
	}
	bool connected() const
	{
		return _connectedFlag.load(std::memory_order_relaxed);
	}

	/// Fails everything pending and joins the I/O thread.
	void stop();

private:
	struct Pending
	{
		std::vector<uint8_t> query; ///< as sent upstream (prepared; the client ID in the first two bytes)
		SentQuestion question;      ///< what its answer must echo
		Callback done;
		Clock::time_point deadline;
		Clock::time_point sent;
		bool retried = false;
	};

	void run();
	void takeSubmitted();
	bool connect();
	bool connectTls(std::string& error, bool& refusedByPin);
	bool connectClearText(std::string& error);
	void connected(Poco::Net::StreamSocket socket, bool secure);
	std::string pinName() const;
	void disconnect(const char* reason, bool retryInflight);
	void sendWaiting();
	void flushOutput();
	void readAvailable();
	void handleAnswer(const uint8_t* data, size_t length);
	void expire(Clock::time_point now);
	void learnIdleLimit(uint32_t ms);
	bool nearServerIdleLimit(Clock::time_point now) const;
	void finish(Pending& pending, UpstreamResult::Status status, std::vector<uint8_t>&& answer = {});
	int pollTimeoutMs(Clock::time_point now) const;
	/// Logs an upstream fault (garbage, unknown ID, question mismatch, broken stream) as a warning at
	/// most once per FAULT_LOG_INTERVAL; the next warning says how many were not logged meanwhile.
	void noteFault(const char* what, const std::string& detail = std::string());

	ServerEndpoint _server;
	Poco::Net::Context::Ptr _context;
	ConnectionSettings _settings;
	stats::UpstreamStats& _stats;
	Poco::Logger& _logger;

	// Shared with submitters.
	std::mutex _mutex;
	std::vector<Pending> _submitted;
	std::atomic<uint32_t> _load{0};
	std::atomic<bool> _stopping{false};
	std::atomic<bool> _connectedFlag{false};
	std::atomic<Clock::rep> _retryAt{0};
	int _wakeFd = -1;

	// Owned by the I/O thread.
	std::thread _thread;
	PinSource* _pins;
	Poco::Net::StreamSocket _socket; ///< a SecureStreamSocket, or a plain one after an opportunistic fallback
	bool _secure = false;
	bool _sessionAuthenticated = false; ///< the session we may resume came from an authenticated handshake
	bool _warnedUnauthenticated = false;
	bool _connected = false;
	Poco::Net::Session::Ptr _session;
	bool _sessionTaken = false;
	unsigned _connectFailures = 0;
	std::deque<Pending> _waiting;
	std::unordered_map<uint16_t, Pending> _inflight;
	std::vector<uint8_t> _output;
	size_t _outputOffset = 0;     ///< _output before this is written
	size_t _frameLeft = 0;        ///< bytes of the first message in _output not written yet (0: read its prefix)
	size_t _retryWriteLength = 0; ///< OpenSSL wants a retried SSL_write repeated with the same length
	std::vector<uint8_t> _input;
	Clock::time_point _lastUse;
	Clock::time_point _lastReceive;
	std::mt19937 _random;
	bool _loggedDown = false;
	Clock::time_point _faultLogUntil{};
	uint64_t _faultsNotLogged = 0;
	/// How long the server lets a connection sit idle, learned from its EDNS keepalive timeout
	/// (RFC 7828) or from the idle time after which it closed one of ours; 0 = not known yet.
	/// Kept across reconnects: it is a property of the server.
	uint32_t _serverIdleMs = 0;
};

} // namespace dnsproxy::upstream
