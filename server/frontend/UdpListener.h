// UdpListener.h - one UDP socket (SO_REUSEPORT, one per worker) that reads queries in batches.
#pragma once

#include "frontend/BatchPacer.h"
#include "frontend/QueryHandler.h"
#include "stats/Stats.h"

#include <Poco/Logger.h>
#include <Poco/Net/DatagramSocket.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace dnsproxy::frontend
{

/// One UDP socket served by its own thread, which blocks in recvmmsg (MSG_WAITFORONE: the first
/// datagram, then whatever else is queued) and hands each query to QueryHandler::handleRaw()
/// straight from the receive buffer. Answers known at once (cache hits, error answers) are
/// collected and sent with one sendmmsg per received batch, without allocating: two system
/// calls per batch, as in the floor of scripts/bench, where an epoll loop would add a third.
/// Under a dense stream it sleeps briefly between batches to take more per wake-up (BatchPacer).
/// The
/// other queries get a Responder, whose answer is sent with sendto() from whatever thread
/// produces it: the kernel serialises datagram sends, and the socket outlives every Responder
/// through a shared_ptr.
class UdpListener
{
public:
	/// `batchWait`: see BatchPacer (0 = answer every wake-up at once, never wait).
	UdpListener(const Poco::Net::SocketAddress& address, QueryHandler& handler, stats::FrontendStats& stats,
				std::chrono::microseconds batchWait = std::chrono::microseconds(0));
	/// Stops the thread if it runs.
	~UdpListener();
	UdpListener(const UdpListener&) = delete;
	UdpListener& operator=(const UdpListener&) = delete;

	void start();
	/// Wakes the thread out of its receive and joins it; answers still in flight may be sent.
	void stop();

	/// Shared with responders so the fd stays open while answers are in flight.
	struct Socket
	{
		Poco::Net::DatagramSocket socket;
		stats::FrontendStats& stats;
	};

private:
	static constexpr int BATCH = 32;
	static constexpr size_t MAX_DATAGRAM = 65535;

	void run();
	void serve(int count);
	void sendReady(unsigned count);

	QueryHandler& _handler;
	stats::FrontendStats& _stats;
	std::shared_ptr<Socket> _socket;
	int _fd;
	BatchPacer _pacer;
	std::atomic<bool> _stopping{false};
	std::thread _thread;
	// The thread's state, kept between batches so nothing is set up per datagram.
	std::vector<uint8_t> _buffers;              ///< BATCH receive slots of MAX_DATAGRAM
	std::vector<std::vector<uint8_t>> _answers; ///< answers of the current batch (capacity reused)
	mmsghdr _msgs[BATCH];
	iovec _iovs[BATCH];
	sockaddr_storage _peers[BATCH];
	mmsghdr _out[BATCH];
	iovec _outIovs[BATCH];
};

} // namespace dnsproxy::frontend
