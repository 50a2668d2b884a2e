// TcpListener.h - one listening TCP socket (SO_REUSEPORT, one per worker) and its client connections.
#pragma once

#include "frontend/EventLoop.h"
#include "frontend/QueryHandler.h"
#include "frontend/TcpClientConnection.h"
#include "stats/Stats.h"

#include <Poco/Net/ServerSocket.h>

#include <memory>
#include <unordered_map>
#include <vector>

namespace dnsproxy::frontend
{

/// Accepts clients on its loop thread and owns their connections.
///
/// A peer the QueryHandler does not admit (the allow list) is reset at once, before any limit is
/// looked at: it holds no slot and closes nobody else's connection (counted in refusedByAcl).
/// Limits: `maxConnections` counts every client connection of the process (all workers share the
/// counter in FrontendStats). When it is reached, this worker closes its longest-idle connection
/// to make room; if it has none idle, the new connection is refused (closed at once, counted).
/// Connections idle longer than `idleTimeoutMs`, and connections whose client has not read an
/// answer byte for that long, are closed by the loop's tick. The room-making close is local to the
/// worker that accepted: with several workers a full worker refuses even if another has idle ones.
class TcpListener: public IoHandler
{
public:
	TcpListener(EventLoop& loop, const Poco::Net::SocketAddress& address, QueryHandler& handler,
				stats::FrontendStats& stats, const TcpLimits& limits, uint32_t maxConnections, OutputBudget& budget);
	~TcpListener() override;

	void onReadable() override;

	/// Loop thread: close connections idle for longer than the limit.
	void closeIdle();
	/// Loop thread: close every client connection (shutdown).
	void closeAll();

private:
	bool makeRoom();
	/// Closes a connection that is not admitted, with RST.
	void reset(Poco::Net::StreamSocket& client);
	void forget(TcpClientConnection& connection);

	EventLoop& _loop;
	Poco::Net::ServerSocket _socket;
	int _fd;
	QueryHandler& _handler;
	stats::FrontendStats& _stats;
	TcpLimits _limits;
	uint32_t _maxConnections;
	OutputBudget& _budget; ///< shared by every client connection of the process
	std::unordered_map<int, std::shared_ptr<TcpClientConnection>> _connections;
};

} // namespace dnsproxy::frontend
