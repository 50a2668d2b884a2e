// DotConnection.cpp - one pipelined DoT connection driven by its own I/O thread.
#include "upstream/DotConnection.h"

#include "dns/Edns.h"
#include "dns/Header.h"
#include "dns/Message.h"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dnsproxy::upstream
{

namespace
{

/// Upstream faults are logged at most this often (issue 8: once per burst, no log flood).
constexpr auto FAULT_LOG_INTERVAL = std::chrono::seconds(10);
/// Bytes taken from the socket per read (a TLS record is at most 16 KB of plaintext).
constexpr size_t READ_CHUNK = 16384;
/// The I/O thread wakes at least this often, even with nothing to wait for.
constexpr auto MAX_POLL_WAIT = std::chrono::seconds(1);
/// RFC 7828 3.1: the edns-tcp-keepalive TIMEOUT is in units of 100 milliseconds.
constexpr uint32_t KEEPALIVE_UNIT_MS = 100;
/// TCP keepalive probes on upstream connections: first after 15 s idle, then every 5 s, 3 tries.
constexpr int TCP_KEEPALIVE_IDLE_S = 15, TCP_KEEPALIVE_INTERVAL_S = 5, TCP_KEEPALIVE_COUNT = 3;
/// Floor of TCP_USER_TIMEOUT (otherwise twice the query timeout).
constexpr uint32_t MIN_TCP_USER_TIMEOUT_MS = 5000;

void setSocketOptions(int fd, uint32_t timeoutMs)
{
	int on = 1;
	::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	int idle = TCP_KEEPALIVE_IDLE_S, interval = TCP_KEEPALIVE_INTERVAL_S, count = TCP_KEEPALIVE_COUNT;
	::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
	::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
	// Unacknowledged data for longer than this means the peer is gone (network change): let the
	// kernel fail the connection instead of retransmitting for 15 minutes.
	unsigned userTimeout = std::max<uint32_t>(timeoutMs * 2, MIN_TCP_USER_TIMEOUT_MS);
	::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &userTimeout, sizeof(userTimeout));
}

} // namespace

DotConnection::DotConnection(const ServerEndpoint& server, Poco::Net::Context::Ptr context,
							 const ConnectionSettings& settings, stats::UpstreamStats& stats, PinSource* pins,
							 ClockSource clock):
	_server(server),
	_settings(settings),
	_stats(stats),
	_logger(Poco::Logger::get("dnsproxy.upstream")),
	_clock(std::move(clock)),
	_random(std::random_device{}()),
	_session(
		settings.maxInflight, stats, [this] { return static_cast<uint16_t>(_random()); },
		[this](const char* what, const std::string& detail) { noteFault(what, detail); }),
	_lifetime(std::chrono::milliseconds(settings.idleTimeoutMs), _clock()),
	_connector(server, std::move(context), settings, stats, pins, _logger)
{
	_wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (_wakeFd < 0)
		throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
	_thread = std::thread([this] { run(); });
}

DotConnection::~DotConnection()
{
	stop();
	::close(_wakeFd);
}

void DotConnection::wake()
{
	uint64_t one = 1;
	[[maybe_unused]] ssize_t n = ::write(_wakeFd, &one, sizeof(one));
}

void DotConnection::reconnectNow()
{
	_reconnectRequested = true;
	wake();
}

void DotConnection::stop()
{
	_stopping = true;
	wake();
	if (_thread.joinable())
		_thread.join();
}

void DotConnection::submit(std::vector<uint8_t>&& query, const SentQuestion& sent, Callback done)
{
	auto now = _clock();
	Pending pending{std::move(query), sent, std::move(done), now + std::chrono::milliseconds(_settings.timeoutMs), now};
	_session.countSubmitted();
	bool wake = false;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		if (!_stopping)
		{
			// Only the first query of a batch wakes the I/O thread: until it takes the queue (under
			// this mutex), later ones ride along, so a burst of misses costs one eventfd write.
			wake = _submitted.empty();
			_submitted.push_back(std::move(pending));
			pending.done = nullptr;
		}
	}
	if (pending.done)
	{
		_session.finish(pending, UpstreamResult::Status::FAILED);
		return;
	}
	if (wake)
		this->wake();
}

void DotConnection::takeSubmitted()
{
	std::vector<Pending> submitted;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		submitted.swap(_submitted);
	}
	for (auto& pending : submitted)
		_session.enqueue(std::move(pending));
}

void DotConnection::connected(Poco::Net::StreamSocket socket)
{
	socket.setNoDelay(true);
	setSocketOptions(socket.impl()->sockfd(), _settings.timeoutMs);
	socket.setBlocking(false);
	_socket = socket;
	_connected = true;
	_output.clear();
	_outputOffset = 0;
	_frameLeft = 0;
	_retryWriteLength = 0;
	const auto now = _clock();
	_lifetime.opened(now);
	_session.resetReceive(now);
	stats::bump(_stats.connectionsOpened);
	stats::bump(_stats.connectionsNow);
	if (_loggedDown)
	{
		_logger.information("upstream %s (%s) is reachable again", _server.url(), _server.authName);
		_loggedDown = false;
	}
}

bool DotConnection::connect()
{
	TlsConnector::Failure failure;
	if (_connector.connect([this](Poco::Net::StreamSocket socket, bool) { connected(socket); }, failure))
		return true;
	const std::string& error = failure.error;
	const bool refusedByPin = failure.refusedByPin;
	if (_settings.opportunistic && !refusedByPin && _stats.downgradesRefused.load() > 0 && !_loggedDown)
		_logger.warning("upstream %s: %s", _server.url(), error);
	stats::bump(_stats.connectFailures);
	_lifetime.connectFailed(_clock());
	if (!_loggedDown)
	{
		if (refusedByPin)
			_logger.error("upstream %s (%s): certificate refused by pin check: %s", _server.url(), _server.authName,
						  error);
		else
			_logger.warning("upstream %s (%s): cannot connect: %s", _server.url(), _server.authName, error);
		_loggedDown = true;
	}
	return false;
}

void DotConnection::disconnect(const char* reason, Loss loss)
{
	if (_connected)
	{
		if (_logger.debug())
			_logger.debug("closing connection to %s: %s", _server.url(), std::string(reason));
		try
		{
			_socket.close();
		}
		catch (const Poco::Exception&)
		{
			// The TLS close_notify could not be sent on a dead socket; the fd is released either way.
		}
		_connected = false;
		_stats.connectionsNow.fetch_sub(1, std::memory_order_relaxed);
	}
	_output.clear();
	_outputOffset = 0;
	_frameLeft = 0;
	_retryWriteLength = 0;
	_session.lost(loss);
}

void DotConnection::sendWaiting()
{
	auto now = _clock();
	const size_t sent = _session.sendWaiting(_output, now, _lifetime.sendBudget());
	if (sent > 0)
		_lifetime.used(now, sent);
	flushOutput();
}

void DotConnection::flushOutput()
{
	try
	{
		while (_connected && _outputOffset < _output.size())
		{
			// One TLS record per DNS message. A server may read exactly one message per readable
			// event (unbound 1.17 does); messages sharing a record with it would wait, decrypted
			// but unseen, until more bytes arrive. Measured: 4 queries in one record took 4 times
			// as long as 4 records.
			if (_frameLeft == 0)
				_frameLeft = 2 + ((static_cast<size_t>(_output[_outputOffset]) << 8) | _output[_outputOffset + 1]);
			size_t length = _retryWriteLength ? _retryWriteLength : _frameLeft;
			int n = _socket.sendBytes(_output.data() + _outputOffset, static_cast<int>(length));
			if (n > 0)
			{
				_outputOffset += static_cast<size_t>(n);
				_frameLeft -= std::min<size_t>(_frameLeft, static_cast<size_t>(n));
				_retryWriteLength = 0;
				if (_outputOffset == _output.size())
				{
					_output.clear();
					_outputOffset = 0;
				}
			}
			else if (n == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_WRITE ||
					 n == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_READ)
			{
				_retryWriteLength = length;
				return;
			}
			else
			{
				disconnect("closed while writing", lossOnClose());
				return;
			}
		}
	}
	catch (const Poco::TimeoutException&)
	{
		// SSL_ERROR_WANT_WRITE seen through POCO 1.11 (see readAvailable): retry the same length later.
		_retryWriteLength = _retryWriteLength ? _retryWriteLength : _frameLeft;
	}
	catch (const Poco::Exception&)
	{
		disconnect("write failed", lossOnClose());
	}
}

void DotConnection::readAvailable()
{
	uint8_t buffer[READ_CHUNK];
	bool closed = false;
	bool clean = false; ///< EOF (close_notify or FIN), not a reset or a cut record
	try
	{
		for (;;)
		{
			int n = _socket.receiveBytes(buffer, sizeof(buffer));
			if (n <= 0)
			{
				closed = clean = n == 0;
				break; // ERR_SSL_WANT_READ: everything buffered has been read
			}
			if (!_session.received(buffer, static_cast<size_t>(n), _clock(),
								   [this](const dns::MessageInfo& info) { answered(info); }))
			{
				disconnect("answer does not fit its query", Loss::BROKEN);
				return;
			}
		}
	}
	catch (const Poco::TimeoutException&)
	{
		// POCO 1.11 keeps its inner socket "blocking" after setBlocking(false) on the secure socket, so
		// SSL_ERROR_WANT_READ surfaces as a zero-length poll that times out: it only means "no more data".
	}
	catch (const Poco::Exception& e)
	{
		// A reset or a cut TLS record: the in-flight queries are retried once on a new connection.
		noteFault("connection broken while reading", e.displayText());
		closed = true;
	}
	_lifetime.received(_session.lastReceive());
	if (closed)
	{
		stats::bump(_stats.serverCloses);
		const auto now = _clock();
		// Closed while idle: the server's idle limit is at most the time since the last exchange.
		if (_session.inflight() == 0 && _lifetime.learnFromClose(now))
			publishIdleLimit();
		if (clean && _lifetime.learnAnswerLimitFromClose(now, _session.inflight()))
			_logger.information("upstream %s closes connections after %u answers: the next connection opens then",
								_server.url(), _lifetime.answerLimit());
		disconnect("closed by server", clean ? lossOnClose() : Loss::BROKEN);
	}
}

void DotConnection::publishIdleLimit()
{
	_stats.learnedIdleMs.store(_lifetime.serverIdleMs(), std::memory_order_relaxed);
	if (_logger.debug())
		_logger.debug("upstream %s closes idle connections after about %u ms", _server.url(), _lifetime.serverIdleMs());
}

DotSession::Loss DotConnection::lossOnClose() const
{
	// The server answered on this stream and then closed it (its answer or idle limit, a restart):
	// the queries it left are not at fault and go on the next stream while their deadlines allow.
	return _lifetime.answersOnStream() > 0 ? Loss::GRACEFUL : Loss::BROKEN;
}

void DotConnection::answered(const dns::MessageInfo& info)
{
	_lifetime.answered();
	_connector.answered(_socket);
	if (info.edns.keepaliveTimeout)
	{
		if (_lifetime.learnIdleLimit(static_cast<uint32_t>(*info.edns.keepaliveTimeout) * KEEPALIVE_UNIT_MS))
			publishIdleLimit();
	}
}

void DotConnection::noteFault(const char* what, const std::string& detail)
{
	auto now = _clock();
	if (now < _faultLogUntil)
	{
		++_faultsNotLogged;
		return;
	}
	_faultLogUntil = now + FAULT_LOG_INTERVAL;
	std::string suffix = detail.empty() ? std::string() : ": " + detail;
	if (_faultsNotLogged > 0)
		suffix += " (" + std::to_string(_faultsNotLogged) + " more faults since the last warning)";
	_faultsNotLogged = 0;
	_logger.warning("upstream %s (%s): %s%s", _server.url(), _server.authName, std::string(what), suffix);
}

int DotConnection::pollTimeoutMs(Clock::time_point now) const
{
	Clock::time_point next = _session.nextDeadline(now + MAX_POLL_WAIT);
	if (_connected && _session.idle())
		next = std::min(next, _lifetime.idleDeadline());
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
	return ms < 0 ? 0 : static_cast<int>(ms) + 1;
}

void DotConnection::run()
{
	while (!_stopping)
		step();
	// Shutting down: nothing more will be sent; everyone still waiting gets a definite answer.
	disconnect("shutting down", Loss::ABANDONED);
	takeSubmitted();
	_session.failWaiting(false);
}

void DotConnection::step()
{
	takeSubmitted();
	// After takeSubmitted: a query submitted after reconnectNow() returned is seen with the request.
	if (_reconnectRequested.exchange(false))
	{
		_lifetime.reset();
		disconnect("the TLS check changed", Loss::GRACEFUL);
		connect();
	}
	auto now = _clock();
	if (_session.expire(now) && _connected)
		disconnect("no answer within the timeout", Loss::BROKEN);
	if (_session.hasWaiting() && !_connected)
	{
		if (_lifetime.mayConnect(now, _lastResort.load(std::memory_order_relaxed)))
			connect();
		// Unreachable (or backing off): fail at once so the pool can try the next server.
		if (!_connected)
			_session.failWaiting(true);
	}
	if (_connected && _session.hasWaiting() && _session.inflight() == 0 && _lifetime.nearServerIdleLimit(now))
	{
		stats::bump(_stats.idleCloses);
		disconnect("about to reach the server's idle limit", Loss::GRACEFUL);
		connect();
	}
	if (_connected && _session.hasWaiting() && _session.inflight() == 0 && _lifetime.streamExhausted())
	{
		// Everything the server will answer on this stream has been answered: the next query goes
		// on a new one instead of into a connection the server is closing.
		disconnect("the server's answer limit is reached", Loss::GRACEFUL);
		connect();
	}
	if (_connected && _session.hasWaiting())
		sendWaiting();
	now = _clock();
	if (_connected && _session.idle() && _lifetime.idleExpired(now))
	{
		stats::bump(_stats.idleCloses);
		disconnect("idle", Loss::GRACEFUL);
	}
	waitForEvents(now);
}

void DotConnection::waitForEvents(Clock::time_point now)
{
	pollfd fds[2];
	fds[0] = {_wakeFd, POLLIN, 0};
	int count = 1;
	if (_connected)
	{
		fds[1] = {_socket.impl()->sockfd(), static_cast<short>(POLLIN | (_output.empty() ? 0 : POLLOUT)), 0};
		count = 2;
	}
	int n = ::poll(fds, static_cast<nfds_t>(count), pollTimeoutMs(now));
	if (n <= 0)
		return;
	if (fds[0].revents & POLLIN)
	{
		uint64_t value;
		[[maybe_unused]] ssize_t r = ::read(_wakeFd, &value, sizeof(value));
	}
	if (count == 2 && _connected)
	{
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
			readAvailable();
		if (_connected && (fds[1].revents & POLLOUT))
			flushOutput();
	}
}

} // namespace dnsproxy::upstream
