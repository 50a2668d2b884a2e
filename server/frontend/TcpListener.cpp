// TcpListener.cpp - accepting client TCP connections, connection limits and idle closing.
#include "frontend/TcpListener.h"

#include <Poco/Net/NetException.h>

namespace dnsproxy::frontend
{

TcpListener::TcpListener(EventLoop& loop, const Poco::Net::SocketAddress& address, QueryHandler& handler,
						 stats::FrontendStats& stats, const TcpLimits& limits, ConnectionRegistry& registry,
						 OutputBudget& budget, ListenerKind kind):
	_loop(loop),
	_kind(std::move(kind)),
	_handler(handler),
	_stats(stats),
	_limits(limits),
	_registry(registry),
	_budget(budget)
{
	if (address.family() == Poco::Net::SocketAddress::IPv6)
		_socket.bind6(address, true, true, true);
	else
		_socket.bind(address, true, true);
	_socket.listen(1024);
	_socket.setBlocking(false);
	_fd = _socket.impl()->sockfd();
	_loop.add(_fd, this);
}

TcpListener::~TcpListener()
{
	_loop.remove(_fd);
	closeAll();
}

void TcpListener::onReadable()
{
	for (int i = 0; i < 64; ++i)
	{
		Poco::Net::SocketAddress peer;
		Poco::Net::StreamSocket client;
		try
		{
			client = _socket.acceptConnection(peer);
		}
		catch (const Poco::Exception&)
		{
			return; // EAGAIN (nothing more to accept) or a transient accept error
		}
		// A source outside `allow` is closed before it takes a slot: it must neither fill the slots
		// nor make room for itself by closing an allowed client's idle connection.
		if (!_handler.admits(peer.addr()))
		{
			stats::bump(_stats.refusedByAcl);
			reset(client);
			continue;
		}
		// New handshakes per source, before any slot is looked at: a client that reconnects in a
		// loop must neither take every core nor close others' idle connections to make room.
		if (_kind.handshakeRate && !_kind.handshakeRate->allow(peer.addr(), EventLoop::Clock::now()))
		{
			stats::bump((_kind.transport == Transport::DOH ? _stats.doh : _stats.dot).rateLimited);
			reset(client);
			continue;
		}
		auto connection = makeConnection(client, peer);
		if (!connection)
			continue;
		if (_registry.admit(*connection, EventLoop::Clock::now()) == ConnectionRegistry::Verdict::REFUSED)
		{
			// Never started nor a member: dropping it closes the socket.
			stats::bump(_stats.tcpConnectionsRefused);
			connection.reset();
			client.close();
			continue;
		}
		_connections.emplace(connection->fd(), connection);
		stats::bump(_stats.tcpConnectionsAccepted);
		if (encrypted(_kind.transport))
		{
			stats::EncryptedStats& counters = _kind.transport == Transport::DOH ? _stats.doh : _stats.dot;
			stats::bump(counters.connectionsAccepted);
			stats::bump(counters.connectionsNow);
		}
		connection->start();
	}
}

std::shared_ptr<TcpClientConnection> TcpListener::makeConnection(Poco::Net::StreamSocket& client,
																  const Poco::Net::SocketAddress& peer)
{
	auto onClose = [this](TcpClientConnection& c) { forget(c); };
	if (_kind.transport == Transport::TCP)
		return std::make_shared<TcpClientConnection>(_loop, client, peer, nullptr, Transport::TCP, _handler, _stats,
													 _limits, _budget, onClose);
	stats::EncryptedStats& counters = _kind.transport == Transport::DOH ? _stats.doh : _stats.dot;
	std::unique_ptr<ClientStream> stream = _kind.makeStream(client.impl()->sockfd());
	if (!stream)
	{
		stats::bump(counters.handshakeFailures);
		reset(client);
		return nullptr;
	}
	if (_kind.transport == Transport::DOH)
		return std::make_shared<DohClientConnection>(_loop, client, peer, std::move(stream), _handler, _stats,
													 _limits, _budget, onClose, _kind.doh);
	return std::make_shared<TcpClientConnection>(_loop, client, peer, std::move(stream), Transport::DOT, _handler,
												 _stats, _limits, _budget, onClose);
}

void TcpListener::reset(Poco::Net::StreamSocket& client)
{
	try
	{
		// SO_LINGER 0: the close sends RST, so a refused connection leaves no TIME_WAIT behind.
		client.setLinger(true, 0);
		client.close();
	}
	catch (const Poco::Exception&)
	{
		stats::bump(_stats.sendErrors);
	}
}

void TcpListener::forget(TcpClientConnection& connection)
{
	auto it = _connections.find(connection.fd());
	if (it == _connections.end())
		return;
	// Keep the object alive until the current batch of epoll events has been dispatched:
	// a later event of the same batch may still point at it.
	std::shared_ptr<TcpClientConnection> keep = std::move(it->second);
	_connections.erase(it); // it has left the registry already (TcpClientConnection::close)
	if (encrypted(_kind.transport))
		(_kind.transport == Transport::DOH ? _stats.doh : _stats.dot)
			.connectionsNow.fetch_sub(1, std::memory_order_relaxed);
	_loop.post([keep]() {});
}

void TcpListener::closeIdle()
{
	auto now = EventLoop::Clock::now();
	std::vector<TcpClientConnection*> idle;
	for (auto& [fd, connection] : _connections)
	{
		// An evicted one is closing already, counted by the registry.
		if (connection->evicted())
			continue;
		const auto expiry = connection->expiry(now);
		if (expiry == TcpClientConnection::Expiry::NONE)
			continue;
		if (expiry == TcpClientConnection::Expiry::HANDSHAKE)
			stats::bump(connection->transport() == Transport::DOH ? _stats.doh.handshakeTimeouts
																  : _stats.dot.handshakeTimeouts);
		else
			stats::bump(_stats.tcpIdleClosed);
		idle.push_back(connection.get());
	}
	for (auto* connection : idle)
		connection->close();
}

void TcpListener::closeAll()
{
	std::vector<std::shared_ptr<TcpClientConnection>> all;
	for (auto& [fd, connection] : _connections)
		all.push_back(connection);
	for (auto& connection : all)
		connection->close();
}

} // namespace dnsproxy::frontend
