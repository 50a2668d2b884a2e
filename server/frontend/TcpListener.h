// TcpListener.h - one listening TCP socket: accepts, admits and deals client connections to the loops.
#pragma once

#include "frontend/ConnectionRegistry.h"
#include "frontend/EventLoop.h"
#include "frontend/LoopConnections.h"
#include "frontend/QueryHandler.h"
#include "frontend/TcpClientConnection.h"
#include "stats/Stats.h"

#include <Poco/Net/ServerSocket.h>

#include <vector>

namespace dnsproxy::frontend
{

/// Accepts clients on its loop thread (the first worker's) and hands each admitted connection to
/// the worker loops in turn (`targets`, round-robin); the connection lives on that loop from then
/// on (LoopConnections).
///
/// A peer the QueryHandler does not admit (the allow list) is reset at once, before any limit is
/// looked at: it holds no slot and closes nobody else's connection (counted in refusedByAcl).
/// Limits: the ConnectionRegistry, shared by every listener of the front end, admits each new
/// connection into one of max_tcp_connections slots for the whole process; at the limit it closes
/// the idlest connection of the whole process (on whichever loop it lives) to make room, or
/// refuses the newcomer when none is idle (closed at once, counted in tcpConnectionsRefused).
/// One accepting thread stamps each connection's first activity in the order the kernel queued
/// them, so "idlest" follows arrival order across all loops.
///
/// Threading: every method on the loop's thread.
class TcpListener: public IoHandler
{
public:
	TcpListener(EventLoop& loop, const Poco::Net::SocketAddress& address, QueryHandler& handler,
				stats::FrontendStats& stats, const TcpLimits& limits, ConnectionRegistry& registry,
				OutputBudget& budget, std::vector<LoopConnections*> targets);
	~TcpListener() override;

	void onReadable() override;

private:
	/// Closes a connection that is not admitted, with RST.
	void reset(Poco::Net::StreamSocket& client);

	EventLoop& _loop;
	Poco::Net::ServerSocket _socket;
	int _fd;
	QueryHandler& _handler;
	stats::FrontendStats& _stats;
	TcpLimits _limits;
	ConnectionRegistry& _registry; ///< shared by every listener of the front end
	OutputBudget& _budget;         ///< shared by every client connection of the process
	std::vector<LoopConnections*> _targets;
	size_t _next = 0; ///< the target of the next admitted connection
};

} // namespace dnsproxy::frontend
