// TcpListener.h - one listening TCP socket (SO_REUSEPORT, one per worker loop) and its client connections.
#pragma once

#include "frontend/ConnectionRegistry.h"
#include "frontend/DohClientConnection.h"
#include "frontend/EventLoop.h"
#include "frontend/HandshakeRate.h"
#include "frontend/QueryHandler.h"
#include "frontend/TcpClientConnection.h"
#include "stats/Stats.h"

#include <Poco/Net/ServerSocket.h>

#include <memory>
#include <unordered_map>
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

/// Accepts clients on its loop thread and owns their connections, which live on the same loop.
/// Every worker loop has one TcpListener per address on the same port (SO_REUSEPORT), so the
/// kernel spreads new connections over the workers.
///
/// A peer the QueryHandler does not admit (the allow list) is reset at once, before any limit is
/// looked at: it holds no slot and closes nobody else's connection (counted in refusedByAcl).
/// Limits: the ConnectionRegistry, shared by every listener of the front end, admits each new
/// connection into one of max_tcp_connections slots for the whole process; at the limit it closes
/// the idlest connection of the whole process (on whichever loop it lives) to make room, or
/// refuses the newcomer when none is idle (closed at once, counted in tcpConnectionsRefused).
/// Connections idle longer than `idleTimeoutMs`, and connections whose client has not read an
/// answer byte for that long, are closed by this loop's tick (closeIdle), each loop closing its own.
///
/// Threading: every method on the loop's thread.
class TcpListener: public IoHandler
{
public:
	TcpListener(EventLoop& loop, const Poco::Net::SocketAddress& address, QueryHandler& handler,
				stats::FrontendStats& stats, const TcpLimits& limits, ConnectionRegistry& registry,
				OutputBudget& budget, ListenerKind kind = ListenerKind());
	~TcpListener() override;

	void onReadable() override;

	/// Loop thread: close connections idle for longer than the limit.
	void closeIdle();
	/// Loop thread: close every client connection (shutdown).
	void closeAll();

private:
	/// The connection for an accepted, admitted client; null when it was closed instead (TLS).
	std::shared_ptr<TcpClientConnection> makeConnection(Poco::Net::StreamSocket& client,
														const Poco::Net::SocketAddress& peer);
	/// Closes a connection that is not admitted, with RST.
	void reset(Poco::Net::StreamSocket& client);
	void forget(TcpClientConnection& connection);

	EventLoop& _loop;
	ListenerKind _kind;
	Poco::Net::ServerSocket _socket;
	int _fd;
	QueryHandler& _handler;
	stats::FrontendStats& _stats;
	TcpLimits _limits;
	ConnectionRegistry& _registry; ///< shared by every listener of the front end
	OutputBudget& _budget;         ///< shared by every client connection of the process
	std::unordered_map<int, std::shared_ptr<TcpClientConnection>> _connections;
};

} // namespace dnsproxy::frontend
