// LoopConnections.cpp - starting, idle-closing and forgetting the client connections of one loop.
#include "frontend/LoopConnections.h"

#include <vector>

namespace dnsproxy::frontend
{

LoopConnections::LoopConnections(EventLoop& loop, stats::FrontendStats& stats, const TcpLimits& limits):
	_loop(loop),
	_stats(stats),
	_limits(limits)
{
}

LoopConnections::~LoopConnections()
{
	closeAll();
}

void LoopConnections::adopt(std::shared_ptr<TcpClientConnection> connection)
{
	if (_loop.inLoopThread())
	{
		take(std::move(connection));
		return;
	}
	_loop.post([this, connection = std::move(connection)]() mutable { take(std::move(connection)); });
}

void LoopConnections::take(std::shared_ptr<TcpClientConnection> connection)
{
	// An eviction's close is posted behind this adopt, so a connection arrives open; the check
	// only keeps a closed socket out of epoll.
	if (connection->isClosed())
		return;
	if (_closing)
	{
		connection->close();
		return;
	}
	_connections.emplace(connection->fd(), connection);
	connection->start();
}

void LoopConnections::forget(TcpClientConnection& connection)
{
	auto it = _connections.find(connection.fd());
	if (it == _connections.end())
		return;
	// Keep the object alive until the current batch of epoll events has been dispatched:
	// a later event of the same batch may still point at it.
	std::shared_ptr<TcpClientConnection> keep = std::move(it->second);
	_connections.erase(it); // it has left the registry already (TcpClientConnection::close)
	_loop.post([keep]() {});
}

void LoopConnections::closeIdle()
{
	auto now = EventLoop::Clock::now();
	std::vector<TcpClientConnection*> expired;
	for (auto& [fd, connection] : _connections)
	{
		// An evicted one is closing already, counted by the registry.
		if (connection->evicted())
			continue;
		const auto expiry = connection->expiry(now);
		if (expiry == TcpClientConnection::Expiry::NONE)
			continue;
		if (expiry == TcpClientConnection::Expiry::HANDSHAKE)
			stats::bump(encryptedStats(_stats, connection->transport()).handshakeTimeouts);
		else
			stats::bump(_stats.tcpIdleClosed);
		expired.push_back(connection.get());
	}
	for (auto* connection : expired)
		connection->close();
}

void LoopConnections::closeAll()
{
	_closing = true;
	std::vector<std::shared_ptr<TcpClientConnection>> all;
	for (auto& [fd, connection] : _connections)
		all.push_back(connection);
	for (auto& connection : all)
		connection->close();
}

} // namespace dnsproxy::frontend
