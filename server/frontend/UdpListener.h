// UdpListener.h - one UDP socket (SO_REUSEPORT, one per worker) that reads queries in batches.
#pragma once

#include "frontend/EventLoop.h"
#include "frontend/QueryHandler.h"
#include "stats/Stats.h"

#include <Poco/Logger.h>
#include <Poco/Net/DatagramSocket.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace dnsproxy::frontend
{

/// Reads datagrams with recvmmsg on its loop thread and hands each to QueryHandler::handleRaw()
/// straight from the receive buffer. Answers known at once (cache hits, error answers) are
/// collected and sent with one sendmmsg per received batch, without allocating. The others get
/// a Responder, whose answer is sent with sendto() from whatever thread produces it: the kernel
/// serialises datagram sends, and the socket outlives every Responder through a shared_ptr.
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
	static constexpr int BATCH = 32;
	static constexpr size_t MAX_DATAGRAM = 65535;

	void sendReady(unsigned count);

	EventLoop& _loop;
	QueryHandler& _handler;
	stats::FrontendStats& _stats;
	std::shared_ptr<Socket> _socket;
	int _fd;
	// Loop-thread state of onReadable(), kept between calls so nothing is set up per datagram.
	std::vector<uint8_t> _buffers;              ///< BATCH receive slots of MAX_DATAGRAM
	std::vector<std::vector<uint8_t>> _answers; ///< answers of the current batch (capacity reused)
	mmsghdr _msgs[BATCH];
	iovec _iovs[BATCH];
	sockaddr_storage _peers[BATCH];
	mmsghdr _out[BATCH];
	iovec _outIovs[BATCH];
};

} // namespace dnsproxy::frontend
