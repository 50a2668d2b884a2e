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
	_lastActivity(EventLoop::Clock::now())
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
			_input.insert(_input.end(), buffer, buffer + n);
			_lastActivity = EventLoop::Clock::now();
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
	size_t offset = 0;
	while (_input.size() - offset >= 2)
	{
		size_t length = (static_cast<size_t>(_input[offset]) << 8) | _input[offset + 1];
		if (length == 0)
		{
			// A zero-length frame is no DNS message; the stream cannot be trusted after it.
			stats::bump(_stats.malformed);
			close();
			return;
		}
		if (_input.size() - offset - 2 < length)
			break;
		if (_inflight >= _limits.maxInflightPerConnection)
			break; // read again once answers have drained
		std::vector<uint8_t> query(_input.begin() + static_cast<std::ptrdiff_t>(offset + 2),
								   _input.begin() + static_cast<std::ptrdiff_t>(offset + 2 + length));
		offset += 2 + length;
		++_inflight;
		stats::bump(_stats.tcpQueries);
		ClientInfo client{_peer, Transport::TCP};
		_handler.handleQuery(std::move(query), client, std::make_shared<TcpResponder>(_loop, weak_from_this()));
		if (_closed)
			return;
	}
	_input.erase(_input.begin(), _input.begin() + static_cast<std::ptrdiff_t>(offset));
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
	if (answer.size() > 65535)
	{
		answerDropped();
		return;
	}
	std::vector<uint8_t> framed(answer.size() + 2);
	framed[0] = static_cast<uint8_t>(answer.size() >> 8);
	framed[1] = static_cast<uint8_t>(answer.size() & 0xff);
	std::copy(answer.begin(), answer.end(), framed.begin() + 2);
	_outputBytes += framed.size();
	_output.push_back(std::move(framed));
	_lastActivity = EventLoop::Clock::now();
	flush();
	if (!_closed && _readPaused && !_input.empty())
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
	else if (_readPaused && !_input.empty())
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
