// TcpListener.cpp - accepting client stream connections, admitting them and dealing them to the loops.
#include "frontend/TcpListener.h"

#include <Poco/Net/NetException.h>

namespace dnsproxy::frontend
{

TcpListener::TcpListener(EventLoop& loop, const Poco::Net::SocketAddress& address, QueryHandler& handler,
						 stats::FrontendStats& stats, const TcpLimits& limits, ConnectionRegistry& registry,
						 OutputBudget& budget, std::vector<LoopConnections*> targets, ListenerKind kind):
	_loop(loop),
	_kind(std::move(kind)),
	_handler(handler),
	_stats(stats),
	_limits(limits),
	_registry(registry),
	_budget(budget),
	_targets(std::move(targets))
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
			stats::bump(encryptedStats(_stats, _kind.transport).rateLimited);
			reset(client);
			continue;
		}
		LoopConnections& target = *_targets[_next % _targets.size()];
		auto connection = makeConnection(client, peer, target);
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
		++_next;
		stats::bump(_stats.tcpConnectionsAccepted);
		if (encrypted(_kind.transport))
		{
			stats::EncryptedStats& counters = encryptedStats(_stats, _kind.transport);
			stats::bump(counters.connectionsAccepted);
			stats::bump(counters.connectionsNow);
		}
		target.adopt(std::move(connection));
	}
}

std::shared_ptr<TcpClientConnection> TcpListener::makeConnection(Poco::Net::StreamSocket& client,
																  const Poco::Net::SocketAddress& peer,
																  LoopConnections& target)
{
	auto onClose = [&target](TcpClientConnection& c) { target.forget(c); };
	if (_kind.transport == Transport::TCP)
		return std::make_shared<TcpClientConnection>(target.loop(), client, peer, nullptr, Transport::TCP, _handler,
													 _stats, _limits, _budget, onClose);
	std::unique_ptr<ClientStream> stream = _kind.makeStream(client.impl()->sockfd());
	if (!stream)
	{
		stats::bump(encryptedStats(_stats, _kind.transport).handshakeFailures);
		reset(client);
		return nullptr;
	}
	if (_kind.transport == Transport::DOH)
		return std::make_shared<DohClientConnection>(target.loop(), client, peer, std::move(stream), _handler, _stats,
													 _limits, _budget, onClose, _kind.doh);
	return std::make_shared<TcpClientConnection>(target.loop(), client, peer, std::move(stream), Transport::DOT,
												 _handler, _stats, _limits, _budget, onClose);
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

} // namespace dnsproxy::frontend
