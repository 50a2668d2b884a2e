// TcpListener.h - one listening TCP socket (plain DNS, DoT or DoH): accepts, admits and deals connections to the loops.
#pragma once

#include "frontend/ConnectionRegistry.h"
#include "frontend/DohClientConnection.h"
#include "frontend/EventLoop.h"
#include "frontend/HandshakeRate.h"
#include "frontend/LoopConnections.h"
#include "frontend/QueryHandler.h"
#include "frontend/TcpClientConnection.h"
#include "stats/Stats.h"

#include <Poco/Net/ServerSocket.h>

#include <functional>
#include <memory>
#include <vector>

namespace dnsproxy::frontend
{

/// What a listener serves: plain DNS over TCP, DoT or DoH, and for the encrypted ones how each
/// accepted socket gets its TLS stream.
struct ListenerKind
{
	Transport transport = Transport::TCP;
	/// Encrypted kinds: a server-side TLS stream over the accepted fd (null when none can be made).
	std::function<std::unique_ptr<ClientStream>(int fd)> makeStream;
	/// Encrypted kinds: new handshakes per source address (shared by every listener); may be null.
	std::shared_ptr<HandshakeRate> handshakeRate;
	doh::DohSettings doh; ///< DoH only
};

/// Accepts clients on its loop thread (the first worker's) and hands each admitted connection to
/// the worker loops in turn (`targets`, round-robin); the connection lives on that loop from then
/// on (LoopConnections), TLS handshake and HTTP/2 framing included.
///
/// A peer the QueryHandler does not admit (the allow list) is reset at once, before any limit is
/// looked at: it holds no slot and closes nobody else's connection (counted in refusedByAcl). On
/// the encrypted listeners a source past its handshake rate (HandshakeRate) is reset next, also
/// before any slot is looked at.
/// Limits: the ConnectionRegistry, shared by every listener of the front end (TCP, DoT and DoH
/// together), admits each new connection into one of max_tcp_connections slots for the whole
/// process; at the limit it closes the idlest connection of the whole process (on whichever loop
/// it lives) to make room, or refuses the newcomer when none is idle (closed at once, counted in
/// tcpConnectionsRefused). One accepting thread stamps each connection's first activity in the
/// order the kernel queued them, so "idlest" follows arrival order across all loops.
///
/// Threading: every method on the loop's thread.
class TcpListener: public IoHandler
{
public:
	TcpListener(EventLoop& loop, const Poco::Net::SocketAddress& address, QueryHandler& handler,
				stats::FrontendStats& stats, const TcpLimits& limits, ConnectionRegistry& registry,
				OutputBudget& budget, std::vector<LoopConnections*> targets, ListenerKind kind = ListenerKind());
	~TcpListener() override;

	void onReadable() override;

private:
	/// Closes a connection that is not admitted, with RST.
	void reset(Poco::Net::StreamSocket& client);
	/// The connection for an accepted client, made for `target`'s loop; null when it was closed
	/// instead (no TLS stream could be made).
	std::shared_ptr<TcpClientConnection> makeConnection(Poco::Net::StreamSocket& client,
														const Poco::Net::SocketAddress& peer, LoopConnections& target);

	EventLoop& _loop;
	ListenerKind _kind;
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
