// UdpListener.h - one UDP socket (SO_REUSEPORT, one per worker) that reads queries in batches.
#pragma once

#include "frontend/EventLoop.h"
#include "frontend/QueryHandler.h"
#include "stats/Stats.h"

#include <Poco/Logger.h>
#include <Poco/Net/DatagramSocket.h>

#include <memory>

namespace dnsproxy::frontend
{

/// Reads datagrams with recvmmsg on its loop thread and hands each to the QueryHandler.
/// Answers are sent with sendto() from whatever thread produces them: the kernel serialises
/// datagram sends, and the socket outlives every Responder through a shared_ptr.
class UdpListener: public IoHandler
{
public:
	UdpListener(EventLoop& loop, const Poco::Net::SocketAddress& address, QueryHandler& handler,
				stats::FrontendStats& stats);
	~UdpListener() override;

	void onReadable() override;

	/// Shared with responders so the fd stays open while answers are in flight.
	struct Socket
	{
		Poco::Net::DatagramSocket socket;
		stats::FrontendStats& stats;
	};

private:
	EventLoop& _loop;
	QueryHandler& _handler;
	stats::FrontendStats& _stats;
	std::shared_ptr<Socket> _socket;
	int _fd;
};

} // namespace dnsproxy::frontend
