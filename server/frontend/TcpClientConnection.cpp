// TcpClientConnection.cpp - framing and out-of-order answers on a client TCP or DoT connection.
#include "frontend/TcpClientConnection.h"

#include "frontend/TcpResponder.h"

#include <sys/socket.h>

#include <cerrno>

namespace dnsproxy::frontend
{


TcpClientConnection::TcpClientConnection(EventLoop& loop, Poco::Net::StreamSocket socket,
										 const Poco::Net::SocketAddress& peer, std::unique_ptr<ClientStream> stream,
										 Transport transport, QueryHandler& handler, stats::FrontendStats& stats,
										 const TcpLimits& limits, OutputBudget& budget, CloseCallback onClose):
	_loop(loop),
	_socket(std::move(socket)),
	_fd(_socket.impl()->sockfd()),
	_peer(peer),
	_stream(stream ? std::move(stream) : std::make_unique<PlainStream>(_fd)),
	_transport(transport),
	_handler(handler),
	_stats(stats),
	_limits(limits),
	_budget(budget),
	_onClose(std::move(onClose)),
	_handshaking(_stream->encrypted()),
	_acceptedAt(EventLoop::Clock::now()),
	_lastActivity(_acceptedAt),
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
	if (_handshaking)
		advanceHandshake(); // the ClientHello may be there already
	else
		onEstablished();
}

std::atomic<uint64_t>& TcpClientConnection::queryCounter()
{
	switch (_transport)
	{
	case Transport::DOT:
		return _stats.dotQueries;
	case Transport::DOH:
		return _stats.dohQueries;
	default:
		return _stats.tcpQueries;
	}
}

void TcpClientConnection::advanceHandshake()
{
	stats::EncryptedStats& counters = encryptedStats(_stats, _transport);
	const ClientStream::Io io = _stream->handshake();
	if (io == ClientStream::Io::WANT_READ || io == ClientStream::Io::WANT_WRITE)
	{
		const bool wantWrite = io == ClientStream::Io::WANT_WRITE;
		if (wantWrite != _handshakeWantsWrite || !_interestRead)
		{
			_handshakeWantsWrite = wantWrite;
			_interestRead = true;
			_interestWrite = wantWrite;
			_loop.modify(_fd, this, wantWrite, true);
		}
		return;
	}
	if (io != ClientStream::Io::OK)
	{
		stats::bump(counters.handshakeFailures);
		close();
		return;
	}
	_handshaking = false;
	_handshakeWantsWrite = false;
	stats::bump(counters.handshakes);
	if (_stream->resumed())
		stats::bump(counters.resumptions);
	_lastActivity = _lastWriteProgress = EventLoop::Clock::now();
	onEstablished();
	if (_closed)
		return;
	// Data may have come with the handshake's last flight (or be buffered by TLS already).
	onReadable();
	if (!_closed)
		flush();
}

void TcpClientConnection::onReadable()
{
	if (_closed)
		return;
	if (_handshaking)
	{
		advanceHandshake();
		return;
	}
	if (_writeWantsRead)
	{
		_writeWantsRead = false;
		flush();
		if (_closed)
			return;
	}
	if (_readPaused || _eof)
		return;
	// Up to 32 KiB per batch, from as many reads as it takes: over TLS each read returns one record
	// (often one query), and handling the queries of a whole batch together writes their answers
	// with one send (one record) instead of one per query.
	uint8_t buffer[32768];
	for (;;)
	{
		size_t filled = 0;
		const ClientStream::Io io = readBatch(buffer, sizeof(buffer), filled);
		if (filled > 0)
		{
			takeInput(buffer, filled);
			if (_closed || _readPaused)
				return; // an end of stream met meanwhile is read again when reading resumes
		}
		switch (io)
		{
		case ClientStream::Io::OK:
			continue; // the batch was full
		case ClientStream::Io::CLOSED:
			// The client half-closed: answers still owed are written before the socket goes.
			_eof = true;
			if (_inflight == 0 && outputEmpty())
				close();
			else
				updateInterest();
			return;
		case ClientStream::Io::WANT_READ:
			return;
		case ClientStream::Io::WANT_WRITE:
			_readWantsWrite = true;
			updateInterest();
			return;
		case ClientStream::Io::FAILED:
			close();
			return;
		}
	}
}

ClientStream::Io TcpClientConnection::readBatch(uint8_t* buffer, size_t capacity, size_t& filled)
{
	ClientStream::Io io = ClientStream::Io::OK;
	while (filled < capacity && (filled == 0 || batchReads()))
	{
		size_t n = 0;
		io = _stream->read(buffer + filled, capacity - filled, n);
		if (io != ClientStream::Io::OK)
			break;
		filled += n;
	}
	return io;
}

void TcpClientConnection::onError()
{
	if (_closed)
		return;
	if (_handshaking)
		stats::bump(encryptedStats(_stats, _transport).handshakeFailures);
	close();
}

void TcpClientConnection::takeInput(const uint8_t* data, size_t length)
{
	_framer.append(data, length);
	parseFrames();
}

bool TcpClientConnection::submitQuery(const uint8_t* query, size_t length, uint64_t tag,
									  const std::function<void(std::vector<uint8_t>&)>& answerNow)
{
	_lastActivity = EventLoop::Clock::now();
	stats::bump(queryCounter());
	const RawQuery raw{query, length, _peer.addr(), static_cast<socklen_t>(_peer.length()), _transport};
	TcpResponderFactory later(_loop, *this, tag);
	++_inflight;
	publishActivity(_lastActivity, false);
	const bool atOnce = _handler.handleRaw(raw, _answer, later);
	if (_closed)
		return false;
	if (atOnce)
	{
		--_inflight;
		answerNow(_answer);
	}
	else if (!later.made())
	{
		--_inflight; // dropped: no answer will come
		droppedAtOnce(tag);
	}
	return !_closed;
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
			if (!submitQuery(_query.data(), _query.size(), 0, [this](std::vector<uint8_t>& answer) {
					if (!queueAnswer(answer.data(), answer.size()))
						stats::bump(_stats.sendErrors);
				}))
				return;
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
	const bool wasPaused = _readPaused;
	_readPaused = !mayRead();
	bool wantRead = (!_readPaused && !_eof) || _writeWantsRead;
	bool wantWrite = (!outputEmpty() && !_writeWantsRead) || _readWantsWrite;
	if (wantRead != _interestRead || wantWrite != _interestWrite)
	{
		_interestRead = wantRead;
		_interestWrite = wantWrite;
		_loop.modify(_fd, this, wantWrite, wantRead);
	}
	// TLS may hold records it has already taken off the socket: epoll will not report them, so
	// reading that resumes must look at them itself.
	if (wasPaused && !_readPaused && !_eof && _stream->hasBufferedInput())
		_loop.post([weak = weak_from_this()]() {
			if (auto connection = weak.lock())
				connection->onReadable();
		});
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

void TcpClientConnection::deliver(uint64_t tag, std::vector<uint8_t>&& answer)
{
	if (_inflight > 0)
		--_inflight;
	if (_closed)
		return;
	if (!queueAnswer(answer.data(), answer.size()))
	{
		stats::bump(_stats.sendErrors);
		++_inflight;
		answerDropped(tag);
		return;
	}
	flush();
}

void TcpClientConnection::answerDropped(uint64_t tag)
{
	(void)tag;
	finishQuery();
}

void TcpClientConnection::finishQuery()
{
	if (_inflight > 0)
		--_inflight;
	if (_closed)
		return;
	flush();
}

std::vector<uint8_t>& TcpClientConnection::outputForAppend()
{
	if (outputEmpty())
	{
		_output.clear();
		_outputOffset = 0;
		_lastWriteProgress = EventLoop::Clock::now();
	}
	return _output;
}

TcpClientConnection::Expiry TcpClientConnection::expiry(EventLoop::Clock::time_point now) const
{
	if (_handshaking)
		return now - _acceptedAt >= std::chrono::milliseconds(_limits.handshakeTimeoutMs) ? Expiry::HANDSHAKE
																						  : Expiry::NONE;
	// Idle: nothing owed either way and no complete query for the limit (a partial one does not
	// count). Stalled: answers waiting that the client has not read.
	const auto limit = std::chrono::milliseconds(_limits.idleTimeoutMs);
	if ((isIdle() && now - _lastActivity >= limit) || writeStalledSince(now - limit))
		return Expiry::IDLE;
	return Expiry::NONE;
}

void TcpClientConnection::onWritable()
{
	if (_closed)
		return;
	if (_handshaking)
	{
		advanceHandshake();
		return;
	}
	if (_readWantsWrite)
	{
		_readWantsWrite = false;
		onReadable();
		if (_closed)
			return;
	}
	flush();
}

void TcpClientConnection::flush()
{
	if (_handshaking)
		return; // nothing can be written before the handshake; it flushes when done
	if (!writeOutput())
		return;
	// An answer written or arrived, or a query ended: queries waiting in the framer may go now
	// (the client may have sent them all already, so no read would come to take them).
	if (inputWaiting() && mayRead())
	{
		resumeInput(); // settles
		return;
	}
	settle();
}

bool TcpClientConnection::writeOutput()
{
	while (!outputEmpty() && !_writeWantsRead)
	{
		size_t n = 0;
		const ClientStream::Io io = _stream->write(_output.data() + _outputOffset, outputBytes(), n);
		if (io == ClientStream::Io::WANT_WRITE)
			break;
		if (io == ClientStream::Io::WANT_READ)
		{
			_writeWantsRead = true;
			break;
		}
		if (io != ClientStream::Io::OK)
		{
			close();
			return false;
		}
		if (n > 0)
			_lastWriteProgress = _lastActivity = EventLoop::Clock::now();
		_outputOffset += n;
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
	if ((_eof && _inflight == 0) || closeWhenWritten())
	{
		if (outputEmpty())
		{
			close(); // half-closed by the client (or the protocol ends) and everything answered
			return;
		}
	}
	updateInterest();
}

void TcpClientConnection::close()
{
	if (_closed)
		return;
	_closed = true;
	leaveRegistry();
	if (encrypted(_transport)) // counted up by the listener when it admitted the connection
		encryptedStats(_stats, _transport).connectionsNow.fetch_sub(1, std::memory_order_relaxed);
	_loop.remove(_fd);
	if (!_handshaking)
		_stream->shutdown();
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
