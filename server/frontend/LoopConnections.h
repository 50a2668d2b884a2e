// LoopConnections.h - the client TCP connections that live on one worker's event loop.
#pragma once

#include "frontend/EventLoop.h"
#include "frontend/TcpClientConnection.h"
#include "stats/Stats.h"

#include <memory>
#include <unordered_map>

namespace dnsproxy::frontend
{

/// Owns the client connections of one EventLoop: the TcpListener hands each admitted connection
/// to one of these (round-robin over the workers), and this loop serves it until it closes.
/// Connections idle for longer than `idleTimeoutMs`, or whose client has not read an answer byte
/// for that long, are closed by this loop's tick (closeIdle); each loop closes only its own.
///
/// Threading: adopt() from any thread (it posts to the loop); everything else on the loop thread.
class LoopConnections
{
public:
	LoopConnections(EventLoop& loop, stats::FrontendStats& stats, const TcpLimits& limits);
	~LoopConnections();
	LoopConnections(const LoopConnections&) = delete;
	LoopConnections& operator=(const LoopConnections&) = delete;

	EventLoop& loop()
	{
		return _loop;
	}

	/// Any thread: takes a connection made for this loop (already admitted by the registry) and
	/// starts it there. After closeAll() it is closed instead.
	void adopt(std::shared_ptr<TcpClientConnection> connection);
	/// Loop thread: the close callback of every connection of this loop.
	void forget(TcpClientConnection& connection);
	/// Loop thread: close connections idle or write-stalled for longer than the limit.
	void closeIdle();
	/// Loop thread: close every connection (shutdown), and those adopted later.
	void closeAll();

private:
	void take(std::shared_ptr<TcpClientConnection> connection);

	EventLoop& _loop;
	stats::FrontendStats& _stats;
	TcpLimits _limits;
	bool _closing = false;
	std::unordered_map<int, std::shared_ptr<TcpClientConnection>> _connections;
};

} // namespace dnsproxy::frontend
