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

} // namespace

TcpClientConnection::TcpClientConnection(EventLoop& loop, Poco::Net::StreamSocket socket,
										 const Poco::Net::SocketAddress& peer, QueryHandler& handler,
										 stats::FrontendStats& stats, const TcpLimits& limits, CloseCallback onClose):
	_loop(loop),
	_socket(std::move(socket)),
	_fd(_socket.impl()->sockfd()),
	_peer(peer),
	_handler(handler),
	_stats(stats),
	_limits(limits),
	_onClose(std::move(onClose)),
	_lastActivity(EventLoop::Clock::now()),
	_lastWriteProgress(_lastActivity)
{
	_socket.setBlocking(false);
	_socket.setNoDelay(true);
}

TcpClientConnection::~TcpClientConnection() = default;

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
			if (_inflight == 0 && _output.empty())
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
	std::vector<uint8_t> query;
	// Stop taking queries while the pipeline is full: they stay in the framer until answers drain.
	while (_inflight < _limits.maxInflightPerConnection)
	{
		dns::TcpFramer::Status status = _framer.next(query);
		if (status == dns::TcpFramer::Status::NEED_MORE)
			break;
		if (status == dns::TcpFramer::Status::ZERO_LENGTH)
		{
			// A zero-length frame is no DNS message; the stream cannot be trusted after it.
			stats::bump(_stats.malformed);
			close();
			return;
		}
		_lastActivity = EventLoop::Clock::now();
		++_inflight;
		stats::bump(_stats.tcpQueries);
		ClientInfo client{_peer, Transport::TCP};
		_handler.handleQuery(std::move(query), client, std::make_shared<TcpResponder>(_loop, weak_from_this()));
		query = {};
		if (_closed)
			return;
	}
	updateInterest();
}

void TcpClientConnection::updateInterest()
{
	if (_closed)
		return;
	// Stop reading while the pipeline is full or the client is not reading its answers.
	_readPaused = _inflight >= _limits.maxInflightPerConnection || _outputBytes > _limits.maxOutputBytes;
	bool wantRead = !_readPaused && !_eof;
	bool wantWrite = !_output.empty();
	if (wantRead != _interestRead || wantWrite != _interestWrite)
	{
		_interestRead = wantRead;
		_interestWrite = wantWrite;
		_loop.modify(_fd, this, wantWrite, wantRead);
	}
}

void TcpClientConnection::deliver(std::vector<uint8_t>&& answer)
{
	if (_inflight > 0)
		--_inflight;
	if (_closed)
		return;
	std::vector<uint8_t> framed = dns::TcpFramer::frame(answer.data(), answer.size());
	if (framed.empty())
	{
		// Longer than 65535 octets cannot be framed (RFC 1035 4.2.2); count it like a lost answer.
		++_inflight;
		answerDropped();
		return;
	}
	if (_output.empty())
		_lastWriteProgress = EventLoop::Clock::now();
	_outputBytes += framed.size();
	_output.push_back(std::move(framed));
	flush();
	if (!_closed && _readPaused && _framer.partial())
		parseFrames();
	else
		updateInterest();
}

void TcpClientConnection::answerDropped()
{
	if (_inflight > 0)
		--_inflight;
	if (_closed)
		return;
	if (_eof && _inflight == 0 && _output.empty())
		close();
	else if (_readPaused && _framer.partial())
		parseFrames();
	else
		updateInterest();
}

void TcpClientConnection::onWritable()
{
	flush();
}

void TcpClientConnection::flush()
{
	while (!_output.empty())
	{
		auto& front = _output.front();
		ssize_t n =
			::send(_fd, front.data() + _outputOffset, front.size() - _outputOffset, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
		{
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			close();
			return;
		}
		if (n > 0)
			_lastWriteProgress = _lastActivity = EventLoop::Clock::now();
		_outputOffset += static_cast<size_t>(n);
		if (_outputOffset == front.size())
		{
			_outputBytes -= front.size();
			_output.pop_front();
			_outputOffset = 0;
		}
	}
	if (_outputBytes > _limits.maxOutputBytes * 4)
	{
		// A client that never reads its answers is closed rather than buffered for ever.
		close();
		return;
	}
	if (_eof && _output.empty() && _inflight == 0)
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
	_loop.remove(_fd);
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

} // namespace dnsproxy::frontend
