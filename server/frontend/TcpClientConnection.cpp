// TcpClientConnection.cpp - framing and out-of-order answers on a client TCP connection.
#include "frontend/TcpClientConnection.h"

#include <sys/socket.h>

#include <cerrno>

namespace dnsproxy::frontend
{

namespace
{

class TcpResponder: public Responder
{
public:
	TcpResponder(EventLoop& loop, std::weak_ptr<TcpClientConnection> connection):
		_loop(loop),
		_connection(std::move(connection))
	{
	}

	void respond(std::vector<uint8_t>&& answer) override
	{
		_loop.post([weak = _connection, answer = std::move(answer)]() mutable {
			if (auto connection = weak.lock())
				connection->deliver(std::move(answer));
		});
	}

	void drop() override
	{
		_loop.post([weak = _connection]() {
			if (auto connection = weak.lock())
				connection->answerDropped();
		});
	}

private:
	EventLoop& _loop;
	std::weak_ptr<TcpClientConnection> _connection;
};

/// Makes the TcpResponder of a query answered later.
class TcpResponderFactory: public ResponderFactory
{
public:
	TcpResponderFactory(EventLoop& loop, TcpClientConnection& connection):
		_loop(loop),
		_connection(connection)
	{
	}

	std::shared_ptr<Responder> make() override
	{
		_made = true;
		return std::make_shared<TcpResponder>(_loop, _connection.weak_from_this());
	}

	bool made() const
	{
		return _made;
	}

private:
	EventLoop& _loop;
	TcpClientConnection& _connection;
	bool _made = false;
};

} // namespace

TcpClientConnection::TcpClientConnection(EventLoop& loop, Poco::Net::StreamSocket socket,
										 const Poco::Net::SocketAddress& peer, QueryHandler& handler,
										 stats::FrontendStats& stats, const TcpLimits& limits, OutputBudget& budget,
										 CloseCallback onClose):
	_loop(loop),
	_socket(std::move(socket)),
	_fd(_socket.impl()->sockfd()),
	_peer(peer),
	_handler(handler),
	_stats(stats),
	_limits(limits),
	_budget(budget),
	_onClose(std::move(onClose)),
	_lastActivity(EventLoop::Clock::now()),
	_lastWriteProgress(_lastActivity)
{
	_socket.setBlocking(false);
	_socket.setNoDelay(true);
}

TcpClientConnection::~TcpClientConnection()
{
	_budget.release(_accounted);
}

void TcpClientConnection::start()
{
	_loop.add(_fd, this);
}

void TcpClientConnection::onReadable()
{
	if (_closed)
		return;
	uint8_t buffer[16384];
	for (;;)
	{
		ssize_t n = ::recv(_fd, buffer, sizeof(buffer), MSG_DONTWAIT);
		if (n > 0)
		{
			_framer.append(buffer, static_cast<size_t>(n));
			parseFrames();
			if (_closed || _readPaused)
				return;
			continue;
		}
		if (n == 0)
		{
			// The client half-closed: answers still owed are written before the socket goes.
			_eof = true;
			if (_inflight == 0 && outputEmpty())
				close();
			else
				updateInterest();
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EINTR)
			continue;
		close();
		return;
	}
}

void TcpClientConnection::parseFrames()
{
	for (;;)
	{
		// Stop taking queries while the pipeline is full or the answers already buffered are at the
		// limits (TcpLimits): the rest stay in the framer, reading paused, until answers drain.
		size_t taken = 0;
		while (mayTakeQuery())
		{
			dns::TcpFramer::Status status = _framer.next(_query);
			if (status == dns::TcpFramer::Status::NEED_MORE)
				break;
			if (status == dns::TcpFramer::Status::ZERO_LENGTH)
			{
				// A zero-length frame is no DNS message; the stream cannot be trusted after it.
				stats::bump(_stats.malformed);
				close();
				return;
			}
			++taken;
			_lastActivity = EventLoop::Clock::now();
			stats::bump(_stats.tcpQueries);
			const RawQuery query{_query.data(), _query.size(), _peer.addr(), static_cast<socklen_t>(_peer.length()),
								 Transport::TCP};
			TcpResponderFactory later(_loop, *this);
			++_inflight;
			publishActivity(_lastActivity, false);
			const bool atOnce = _handler.handleRaw(query, _answer, later);
			if (_closed)
				return;
			if (atOnce)
			{
				--_inflight;
				if (!queueAnswer(_answer.data(), _answer.size()))
					stats::bump(_stats.sendErrors);
			}
			else if (!later.made())
				--_inflight; // dropped: no answer will come
		}
		if (!writeOutput())
			return;
		// What the client has read makes room: queries still waiting in the framer may go now.
		if (taken == 0 || !_framer.partial() || !mayTakeQuery())
			break;
	}
	settle();
}

void TcpClientConnection::updateInterest()
{
	if (_closed)
		return;
	publishActivity(_lastActivity, isIdle()); // every event that changes either ends here
	// Stop reading while no query may be taken: the framer holds at most one read more.
	_readPaused = !mayTakeQuery();
	bool wantRead = !_readPaused && !_eof;
	bool wantWrite = !outputEmpty();
	if (wantRead != _interestRead || wantWrite != _interestWrite)
	{
		_interestRead = wantRead;
		_interestWrite = wantWrite;
		_loop.modify(_fd, this, wantWrite, wantRead);
	}
}

bool TcpClientConnection::queueAnswer(const uint8_t* answer, size_t length)
{
	// Longer than 65535 octets cannot be framed (RFC 1035 4.2.2): counted like a lost answer.
	if (length > 0xffff)
		return false;
	if (outputEmpty())
	{
		_output.clear();
		_outputOffset = 0;
		_lastWriteProgress = EventLoop::Clock::now();
	}
	_output.push_back(static_cast<uint8_t>(length >> 8));
	_output.push_back(static_cast<uint8_t>(length & 0xff));
	_output.insert(_output.end(), answer, answer + length);
	account();
	return true;
}

void TcpClientConnection::account()
{
	const size_t now = outputBytes();
	if (now > _accounted)
		_budget.add(now - _accounted);
	else
		_budget.release(_accounted - now);
	_accounted = now;
}

void TcpClientConnection::deliver(std::vector<uint8_t>&& answer)
{
	if (_inflight > 0)
		--_inflight;
	if (_closed)
		return;
	if (!queueAnswer(answer.data(), answer.size()))
	{
		stats::bump(_stats.sendErrors);
		++_inflight;
		answerDropped();
		return;
	}
	flush();
}

void TcpClientConnection::answerDropped()
{
	if (_inflight > 0)
		--_inflight;
	if (_closed)
		return;
	flush();
}

void TcpClientConnection::onWritable()
{
	flush();
}

void TcpClientConnection::flush()
{
	if (!writeOutput())
		return;
	// An answer written or arrived, or a query ended: queries waiting in the framer may go now
	// (the client may have sent them all already, so no read would come to take them).
	if (_framer.partial() && mayTakeQuery())
	{
		parseFrames(); // settles
		return;
	}
	settle();
}

bool TcpClientConnection::writeOutput()
{
	while (!outputEmpty())
	{
		ssize_t n = ::send(_fd, _output.data() + _outputOffset, outputBytes(), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
		{
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			close();
			return false;
		}
		if (n > 0)
			_lastWriteProgress = _lastActivity = EventLoop::Clock::now();
		_outputOffset += static_cast<size_t>(n);
	}
	if (outputEmpty())
	{
		_output.clear();
		_outputOffset = 0;
		// A burst to a slow reader leaves a large buffer behind; do not keep it for an idle client.
		if (_output.capacity() > 65536)
			std::vector<uint8_t>().swap(_output);
	}
	else if (_outputOffset > _output.size() / 2)
	{
		// Most of the buffer is written: move the rest to the front instead of growing further.
		_output.erase(_output.begin(), _output.begin() + static_cast<std::ptrdiff_t>(_outputOffset));
		_outputOffset = 0;
	}
	account();
	return true;
}

void TcpClientConnection::settle()
{
	if (_limits.overHardLimit(outputBytes(), _budget.exhausted()))
	{
		// A client that does not read its answers is closed rather than buffered for ever.
		close();
		return;
	}
	if (_eof && outputEmpty() && _inflight == 0)
	{
		close(); // half-closed by the client and everything answered
		return;
	}
	updateInterest();
}

void TcpClientConnection::close()
{
	if (_closed)
		return;
	_closed = true;
	leaveRegistry();
	_loop.remove(_fd);
	// The unwritten answers go with the connection: give their bytes back to the budget now.
	_budget.release(_accounted);
	_accounted = 0;
	std::vector<uint8_t>().swap(_output);
	_outputOffset = 0;
	try
	{
		_socket.close();
	}
	catch (const Poco::Exception&)
	{
		stats::bump(_stats.sendErrors);
	}
	if (_onClose)
		_onClose(*this);
}

void TcpClientConnection::evict()
{
	_loop.post([weak = weak_from_this()]() {
		if (auto connection = weak.lock())
			connection->close();
	});
}

} // namespace dnsproxy::frontend
