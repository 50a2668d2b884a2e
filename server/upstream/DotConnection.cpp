// DotConnection.cpp - one pipelined DoT connection driven by its own I/O thread.
#include "upstream/DotConnection.h"

#include "dns/Edns.h"
#include "dns/Header.h"
#include "dns/Message.h"
#include "upstream/TlsVerifier.h"

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace dnsproxy::upstream
{

namespace
{

/// Upstream faults are logged at most this often (issue 8: once per burst, no log flood).
constexpr auto FAULT_LOG_INTERVAL = std::chrono::seconds(10);

void setSocketOptions(int fd, uint32_t timeoutMs)
{
	int on = 1;
	::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	int idle = 15, interval = 5, count = 3;
	::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
	::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
	// Unacknowledged data for longer than this means the peer is gone (network change): let the
	// kernel fail the connection instead of retransmitting for 15 minutes.
	unsigned userTimeout = std::max<uint32_t>(timeoutMs * 2, 5000);
	::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &userTimeout, sizeof(userTimeout));
}

} // namespace

DotConnection::DotConnection(const ServerEndpoint& server, Poco::Net::Context::Ptr context,
							 const ConnectionSettings& settings, stats::UpstreamStats& stats, PinSource* pins):
	_server(server),
	_context(std::move(context)),
	_settings(settings),
	_stats(stats),
	_logger(Poco::Logger::get("dnsproxy.upstream")),
	_pins(pins),
	_random(std::random_device{}())
{
	_wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (_wakeFd < 0)
		throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
	_lastUse = _lastReceive = Clock::now();
	_thread = std::thread([this] { run(); });
}

DotConnection::~DotConnection()
{
	stop();
	::close(_wakeFd);
}

void DotConnection::stop()
{
	_stopping = true;
	uint64_t one = 1;
	[[maybe_unused]] ssize_t n = ::write(_wakeFd, &one, sizeof(one));
	if (_thread.joinable())
		_thread.join();
}

void DotConnection::submit(std::vector<uint8_t>&& query, const SentQuestion& sent, Callback done)
{
	auto now = Clock::now();
	Pending pending{std::move(query), sent, std::move(done), now + std::chrono::milliseconds(_settings.timeoutMs), now};
	_load.fetch_add(1, std::memory_order_relaxed);
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
		finish(pending, UpstreamResult::Status::FAILED);
		return;
	}
	if (wake)
	{
		uint64_t one = 1;
		[[maybe_unused]] ssize_t n = ::write(_wakeFd, &one, sizeof(one));
	}
}

void DotConnection::takeSubmitted()
{
	std::vector<Pending> submitted;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		submitted.swap(_submitted);
	}
	for (auto& pending : submitted)
		_waiting.push_back(std::move(pending));
}

void DotConnection::finish(Pending& pending, UpstreamResult::Status status, std::vector<uint8_t>&& answer)
{
	_load.fetch_sub(1, std::memory_order_relaxed);
	Callback done = std::move(pending.done);
	pending.done = nullptr;
	if (done)
		done(UpstreamResult{status, std::move(answer)});
}

std::string DotConnection::pinName() const
{
	return _server.authName.empty() ? _server.address.host().toString() : _server.authName;
}

bool DotConnection::connectTls(std::string& error, bool& refusedByPin)
{
	HandshakeCheck check;
	check.authName = pinName();
	check.requireAuth = !_settings.opportunistic;
	check.pins = _pins;
	try
	{
		Poco::Net::SecureStreamSocket socket(_context);
		socket.setPeerHostName(check.authName); // also the SNI
		if (_session && _settings.sessionResumption)
			socket.useSession(_session);
		{
			TlsVerifier::Scope scope(check);
			socket.connect(_server.address,
						   Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(_settings.timeoutMs) * 1000));
		}
		bool resumed = _session && socket.sessionWasReused();
		// A resumed handshake shows no certificate: it is as authenticated as the one that made the session.
		bool authenticated = check.sawCertificate ? check.chain.authenticated() : (resumed && _sessionAuthenticated);
		if (!authenticated)
		{
			stats::bump(_stats.unauthenticatedTls);
			if (!_warnedUnauthenticated)
			{
				_logger.warning("upstream %s: using unauthenticated TLS (opportunistic profile): %s", _server.url(),
								check.failure.empty() ? std::string("session not verified") : check.failure);
				_warnedUnauthenticated = true;
			}
		}
		_sessionAuthenticated = authenticated;
		_stats.transport.store(authenticated ? 0 : 1, std::memory_order_relaxed);
		if (resumed)
			stats::bump(_stats.tlsResumptions);
		if (_pins)
		{
			_pins->spokeTls(check.authName);
			if (authenticated && check.sawCertificate)
				_pins->verified(check.authName, check.chain);
		}
		connected(socket, true);
		if (_logger.debug())
			_logger.debug("connected to %s%s", _server.url(), std::string(resumed ? " (TLS session resumed)" : ""));
		return true;
	}
	catch (const Poco::Exception& e)
	{
		refusedByPin = check.refusedByPin;
		error = check.failure.empty() ? e.displayText() : check.failure;
		if (check.refusedByPin)
			stats::bump(_stats.pinRefusals);
		return false;
	}
}

bool DotConnection::connectClearText(std::string& error)
{
	// RFC 8310 5: the opportunistic profile may fall back to clear text, but a server that has been
	// seen speaking TLS must not: that is exactly what a downgrade attack would look like.
	if (_pins && _pins->hasSpokenTls(pinName()))
	{
		stats::bump(_stats.downgradesRefused);
		error += "; no clear-text fallback: this server has spoken TLS before (downgrade refused)";
		return false;
	}
	try
	{
		Poco::Net::SocketAddress plain(_server.address.host(), 53);
		Poco::Net::StreamSocket socket;
		socket.connect(plain, Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(_settings.timeoutMs) * 1000));
		stats::bump(_stats.clearTextFallbacks);
		_logger.warning("upstream %s: TLS failed (%s); opportunistic profile: using clear-text DNS to %s",
						_server.url(), error, plain.toString());
		_stats.transport.store(2, std::memory_order_relaxed);
		connected(socket, false);
		return true;
	}
	catch (const Poco::Exception& e)
	{
		error += "; clear-text fallback failed: " + e.displayText();
		return false;
	}
}

void DotConnection::connected(Poco::Net::StreamSocket socket, bool secure)
{
	socket.setNoDelay(true);
	setSocketOptions(socket.impl()->sockfd(), _settings.timeoutMs);
	socket.setBlocking(false);
	_socket = socket;
	_secure = secure;
	_connected = true;
	_connectedFlag = true;
	_sessionTaken = false;
	_connectFailures = 0;
	_retryAt = 0;
	_input.clear();
	_output.clear();
	_outputOffset = 0;
	_frameLeft = 0;
	_retryWriteLength = 0;
	_lastUse = _lastReceive = Clock::now();
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
	std::string error;
	bool refusedByPin = false;
	if (connectTls(error, refusedByPin))
		return true;
	if (_settings.opportunistic && !refusedByPin)
	{
		if (connectClearText(error))
			return true;
		if (_stats.downgradesRefused.load() > 0 && !_loggedDown)
			_logger.warning("upstream %s: %s", _server.url(), error);
	}
	stats::bump(_stats.connectFailures);
	++_connectFailures;
	// Back off 250 ms, 500 ms, 1 s, 2 s between attempts while the server fails: short, because the
	// pool already keeps clients away from a dead server; this only spaces the probes.
	auto backoff = std::chrono::milliseconds(std::min<uint64_t>(2000, 250ull << std::min(_connectFailures - 1, 3u)));
	_retryAt = (Clock::now() + backoff).time_since_epoch().count();
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

void DotConnection::disconnect(const char* reason, bool retryInflight)
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
		_connectedFlag = false;
		_stats.connectionsNow.fetch_sub(1, std::memory_order_relaxed);
	}
	_input.clear();
	_output.clear();
	_outputOffset = 0;
	_frameLeft = 0;
	_retryWriteLength = 0;
	std::vector<Pending> retry;
	for (auto& [id, pending] : _inflight)
	{
		if (retryInflight && !pending.retried)
		{
			pending.retried = true;
			stats::bump(_stats.retries);
			retry.push_back(std::move(pending));
		}
		else
		{
			stats::bump(_stats.failures);
			finish(pending, UpstreamResult::Status::FAILED);
		}
	}
	_inflight.clear();
	for (auto it = retry.rbegin(); it != retry.rend(); ++it)
		_waiting.push_front(std::move(*it));
}

void DotConnection::sendWaiting()
{
	auto now = Clock::now();
	while (!_waiting.empty() && _inflight.size() < _settings.maxInflight)
	{
		Pending pending = std::move(_waiting.front());
		_waiting.pop_front();
		uint16_t id;
		do
			id = static_cast<uint16_t>(_random());
		while (_inflight.count(id) != 0);
		const auto& query = pending.query;
		size_t base = _output.size();
		_output.resize(base + 2 + query.size());
		_output[base] = static_cast<uint8_t>(query.size() >> 8);
		_output[base + 1] = static_cast<uint8_t>(query.size() & 0xff);
		std::copy(query.begin(), query.end(), _output.begin() + static_cast<std::ptrdiff_t>(base + 2));
		dns::writeId(_output.data() + base + 2, id);
		pending.sent = now;
		_inflight.emplace(id, std::move(pending));
		stats::bump(_stats.queries);
		_lastUse = now;
	}
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
				disconnect("closed while writing", true);
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
		disconnect("write failed", true);
	}
}

void DotConnection::readAvailable()
{
	uint8_t buffer[16384];
	bool closed = false;
	try
	{
		for (;;)
		{
			int n = _socket.receiveBytes(buffer, sizeof(buffer));
			if (n > 0)
			{
				_input.insert(_input.end(), buffer, buffer + n);
				continue;
			}
			closed = n == 0;
			break; // ERR_SSL_WANT_READ: everything buffered has been read
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
	size_t offset = 0;
	while (_input.size() - offset >= 2)
	{
		size_t length = (static_cast<size_t>(_input[offset]) << 8) | _input[offset + 1];
		if (_input.size() - offset - 2 < length)
			break;
		handleAnswer(_input.data() + offset + 2, length);
		if (!_connected)
			return; // handleAnswer gave up on the connection and cleared the buffers
		offset += 2 + length;
	}
	_input.erase(_input.begin(), _input.begin() + static_cast<std::ptrdiff_t>(offset));
	if (closed)
	{
		stats::bump(_stats.serverCloses);
		if (_inflight.empty())
		{
			// Closed while idle: the server's idle limit is at most the time since the last exchange.
			auto idle =
				std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - std::max(_lastUse, _lastReceive));
			if (idle.count() >= 200)
				learnIdleLimit(static_cast<uint32_t>(idle.count()));
		}
		disconnect("closed by server", true);
	}
}

void DotConnection::learnIdleLimit(uint32_t ms)
{
	uint32_t limit = _serverIdleMs ? std::min(_serverIdleMs, ms) : ms;
	if (limit != _serverIdleMs)
	{
		_serverIdleMs = limit;
		_stats.learnedIdleMs.store(limit, std::memory_order_relaxed);
		if (_logger.debug())
			_logger.debug("upstream %s closes idle connections after about %u ms", _server.url(), limit);
	}
}

bool DotConnection::nearServerIdleLimit(Clock::time_point now) const
{
	if (_serverIdleMs == 0 || !_inflight.empty())
		return false;
	// Stop reusing a connection shortly before the server would close it, so that a reconnect happens
	// between queries and no query is written into a connection that is being torn down.
	uint32_t margin = std::max<uint32_t>(200, _serverIdleMs / 5);
	auto reuseFor = std::chrono::milliseconds(_serverIdleMs > margin ? _serverIdleMs - margin : 0);
	return now - std::max(_lastUse, _lastReceive) >= reuseFor;
}

void DotConnection::handleAnswer(const uint8_t* data, size_t length)
{
	_lastReceive = Clock::now();
	if (length < dns::HEADER_SIZE)
	{
		stats::bump(_stats.badAnswers);
		noteFault("answer shorter than a DNS header; dropping the connection");
		disconnect("malformed answer", true);
		return;
	}
	auto it = _inflight.find(dns::readId(data));
	if (it == _inflight.end())
	{
		// Usually the late answer to a query that already timed out: ignored, the connection stays.
		stats::bump(_stats.badAnswers);
		noteFault("answer with an unknown ID ignored");
		return;
	}
	Pending& pending = it->second;
	dns::MessageInfo info;
	const AnswerVerdict verdict = checkAnswer(pending.query.data(), pending.question, data, length, info);
	const char* problem = verdict == AnswerVerdict::OK ? nullptr : toString(verdict);
	std::optional<std::vector<uint8_t>> cleaned;
	if (!problem && dns::hasOption(data, info.edns, dns::clientPrivateOptions()))
	{
		// We never send ECS or a cookie: one in an answer is for no client, and is not cached (SPEC 4).
		cleaned = dns::rewriteOpt(data, length, info, dns::DEFAULT_UDP_PAYLOAD_SIZE, dns::clientPrivateOptions(), {});
		if (!cleaned)
			problem = "private_option_not_removable";
	}
	if (problem)
	{
		// Our ID on a message that is not the answer to this query (QR=0, another opcode or
		// question, records without a question, unparsable): the stream is broken or spoofed.
		// Waiting for the deadline would only delay the client; retry once on a fresh connection.
		stats::bump(_stats.badAnswers);
		noteFault("answer does not fit its query; dropping the connection", problem);
		disconnect("answer does not fit its query", true);
		return;
	}
	if (!_sessionTaken && _settings.sessionResumption && _secure)
	{
		// TLS 1.3 tickets arrive after the handshake, with the first read: take the session only now
		// (poco issue 3880), so that the next connection can resume it.
		_sessionTaken = true;
		try
		{
			_session = Poco::Net::SecureStreamSocket(_socket).currentSession();
		}
		catch (const Poco::Exception&)
		{
			_session = nullptr;
		}
	}
	if (info.edns.keepaliveTimeout)
		learnIdleLimit(static_cast<uint32_t>(*info.edns.keepaliveTimeout) * 100);
	_stats.latency.record(std::chrono::duration<double, std::milli>(_lastReceive - pending.sent).count());
	std::vector<uint8_t> answer = cleaned ? std::move(*cleaned) : std::vector<uint8_t>(data, data + length);
	dns::writeId(answer.data(), dns::readId(pending.query.data()));
	Pending done = std::move(pending);
	_inflight.erase(it);
	stats::bump(_stats.answers);
	finish(done, UpstreamResult::Status::OK, std::move(answer));
}

void DotConnection::noteFault(const char* what, const std::string& detail)
{
	auto now = Clock::now();
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

void DotConnection::expire(Clock::time_point now)
{
	for (auto it = _waiting.begin(); it != _waiting.end();)
	{
		if (it->deadline <= now)
		{
			stats::bump(_stats.timeouts);
			finish(*it, UpstreamResult::Status::TIMEOUT);
			it = _waiting.erase(it);
		}
		else
			++it;
	}
	bool silent = false;
	for (auto it = _inflight.begin(); it != _inflight.end();)
	{
		if (it->second.deadline <= now)
		{
			// Nothing at all received since this query went out: the connection is probably half-open.
			if (_lastReceive < it->second.sent)
				silent = true;
			stats::bump(_stats.timeouts);
			finish(it->second, UpstreamResult::Status::TIMEOUT);
			it = _inflight.erase(it);
		}
		else
			++it;
	}
	if (silent && _connected)
		disconnect("no answer within the timeout", true);
}

int DotConnection::pollTimeoutMs(Clock::time_point now) const
{
	Clock::time_point next = now + std::chrono::seconds(1);
	for (const auto& pending : _waiting)
		next = std::min(next, pending.deadline);
	for (const auto& [id, pending] : _inflight)
		next = std::min(next, pending.deadline);
	if (_connected && _inflight.empty() && _waiting.empty())
		next = std::min(next, _lastUse + std::chrono::milliseconds(_settings.idleTimeoutMs));
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
	return ms < 0 ? 0 : static_cast<int>(ms) + 1;
}

void DotConnection::run()
{
	while (!_stopping)
	{
		takeSubmitted();
		auto now = Clock::now();
		expire(now);
		if (!_waiting.empty() && !_connected)
		{
			if (now.time_since_epoch().count() >= _retryAt.load())
				connect();
			if (!_connected)
			{
				// Unreachable (or backing off): fail at once so the pool can try the next server.
				while (!_waiting.empty())
				{
					stats::bump(_stats.failures);
					finish(_waiting.front(), UpstreamResult::Status::FAILED);
					_waiting.pop_front();
				}
			}
		}
		if (_connected && !_waiting.empty() && nearServerIdleLimit(now))
		{
			stats::bump(_stats.idleCloses);
			disconnect("about to reach the server's idle limit", false);
			connect();
		}
		if (_connected && !_waiting.empty())
			sendWaiting();
		now = Clock::now();
		if (_connected && _inflight.empty() && _waiting.empty() &&
			(now - _lastUse >= std::chrono::milliseconds(_settings.idleTimeoutMs) || nearServerIdleLimit(now)))
		{
			stats::bump(_stats.idleCloses);
			disconnect("idle", false);
		}

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
			continue;
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
	// Shutting down: nothing more will be sent; everyone still waiting gets a definite answer.
	disconnect("shutting down", false);
	takeSubmitted();
	while (!_waiting.empty())
	{
		finish(_waiting.front(), UpstreamResult::Status::FAILED);
		_waiting.pop_front();
	}
}

} // namespace dnsproxy::upstream
