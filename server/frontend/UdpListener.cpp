// UdpListener.cpp - batched UDP receive and thread-safe UDP answers.
#include "frontend/UdpListener.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace dnsproxy::frontend
{

namespace
{

class UdpResponder: public Responder
{
public:
	UdpResponder(std::shared_ptr<UdpListener::Socket> socket, const sockaddr_storage& peer, socklen_t peerLen):
		_socket(std::move(socket)),
		_peer(peer),
		_peerLen(peerLen)
	{
	}

	void respond(std::vector<uint8_t>&& answer) override
	{
		ssize_t n = ::sendto(_socket->socket.impl()->sockfd(), answer.data(), answer.size(), MSG_DONTWAIT,
							 reinterpret_cast<const sockaddr*>(&_peer), _peerLen);
		if (n < 0)
			stats::bump(_socket->stats.sendErrors);
	}

	void drop() override
	{
	}

private:
	std::shared_ptr<UdpListener::Socket> _socket;
	sockaddr_storage _peer;
	socklen_t _peerLen;
};

/// Makes the UdpResponder of a query answered later (a cache miss).
class UdpResponderFactory: public ResponderFactory
{
public:
	UdpResponderFactory(const std::shared_ptr<UdpListener::Socket>& socket, const sockaddr_storage& peer,
						socklen_t peerLen):
		_socket(socket),
		_peer(peer),
		_peerLen(peerLen)
	{
	}

	std::shared_ptr<Responder> make() override
	{
		return std::make_shared<UdpResponder>(_socket, _peer, _peerLen);
	}

private:
	const std::shared_ptr<UdpListener::Socket>& _socket;
	const sockaddr_storage& _peer;
	socklen_t _peerLen;
};

} // namespace

UdpListener::UdpListener(const Poco::Net::SocketAddress& address, QueryHandler& handler, stats::FrontendStats& stats,
						 std::chrono::microseconds batchWait):
	_handler(handler),
	_stats(stats),
	_pacer(batchWait),
	_buffers(static_cast<size_t>(BATCH) * MAX_DATAGRAM),
	_answers(BATCH)
{
	Poco::Net::DatagramSocket socket(address.family());
	if (address.family() == Poco::Net::SocketAddress::IPv6)
		socket.impl()->bind6(address, true, true, true);
	else
		socket.bind(address, true, true);
	socket.setBlocking(true);
	// stop() wakes the receive with shutdown(); the timeout only bounds it should that not work.
	socket.setReceiveTimeout(Poco::Timespan(1, 0));
	_socket = std::make_shared<Socket>(Socket{socket, stats});
	_fd = socket.impl()->sockfd();
	for (int i = 0; i < BATCH; ++i)
	{
		_iovs[i].iov_base = _buffers.data() + static_cast<size_t>(i) * MAX_DATAGRAM;
		std::memset(&_msgs[i].msg_hdr, 0, sizeof(msghdr));
		_msgs[i].msg_hdr.msg_iov = &_iovs[i];
		_msgs[i].msg_hdr.msg_iovlen = 1;
		_msgs[i].msg_hdr.msg_name = &_peers[i];
	}
}

UdpListener::~UdpListener()
{
	stop();
}

void UdpListener::start()
{
	_stopping = false;
	_thread = std::thread([this] { run(); });
}

void UdpListener::stop()
{
	_stopping = true;
	if (!_thread.joinable())
		return;
	// On an unbound-peer UDP socket shutdown() reports ENOTCONN, but still wakes the receiver.
	::shutdown(_fd, SHUT_RD);
	_thread.join();
}

void UdpListener::run()
{
	// Sleeps of a few hundred microseconds: the default timer slack (50 us) would stretch them.
	if (_pacer.wait().count() > 0)
		::prctl(PR_SET_TIMERSLACK, 5000UL, 0UL, 0UL, 0UL);
	bool pause = false;
	while (!_stopping.load(std::memory_order_relaxed))
	{
		if (pause)
		{
			const auto wait = _pacer.wait();
			timespec delay{static_cast<time_t>(wait.count() / 1000000),
						   static_cast<long>(wait.count() % 1000000) * 1000};
			::nanosleep(&delay, nullptr);
		}
		for (int i = 0; i < BATCH; ++i)
		{
			_iovs[i].iov_len = MAX_DATAGRAM;
			_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
			_msgs[i].msg_hdr.msg_flags = 0;
		}
		// Blocks for the first datagram, then takes whatever else is already queued.
		int n = ::recvmmsg(_fd, _msgs, BATCH, MSG_WAITFORONE, nullptr);
		pause = n > 0 && _pacer.afterReceive(n, n == BATCH, BatchPacer::Clock::now());
		if (n > 0)
			serve(n);
		// n == 0 after shutdown(); EAGAIN after the receive timeout; EINTR: go round again.
	}
}

void UdpListener::serve(int count)
{
	// Receive buffers, answer buffers and message headers belong to the listener and are reused:
	// a cache hit allocates nothing (its answer is copied into _answers[k], whose capacity stays).
	// Only the full path copies the query into its own vector, which then travels with it.
	unsigned ready = 0;
	for (int i = 0; i < count; ++i)
	{
		stats::bump(_stats.udpQueries);
		const RawQuery query{static_cast<const uint8_t*>(_iovs[i].iov_base), _msgs[i].msg_len,
							 reinterpret_cast<const sockaddr*>(&_peers[i]), _msgs[i].msg_hdr.msg_namelen,
							 Transport::UDP};
		UdpResponderFactory later(_socket, _peers[i], _msgs[i].msg_hdr.msg_namelen);
		if (!_handler.handleRaw(query, _answers[ready], later))
			continue; // answered later through a UdpResponder, or dropped
		std::memset(&_out[ready].msg_hdr, 0, sizeof(msghdr));
		_outIovs[ready].iov_base = _answers[ready].data();
		_outIovs[ready].iov_len = _answers[ready].size();
		_out[ready].msg_hdr.msg_iov = &_outIovs[ready];
		_out[ready].msg_hdr.msg_iovlen = 1;
		_out[ready].msg_hdr.msg_name = &_peers[i];
		_out[ready].msg_hdr.msg_namelen = _msgs[i].msg_hdr.msg_namelen;
		++ready;
	}
	sendReady(ready);
}

void UdpListener::sendReady(unsigned count)
{
	// One sendmmsg for every answer of the batch; what the kernel does not take (a full socket
	// buffer) is dropped like a lost datagram, as sendto() with MSG_DONTWAIT would.
	unsigned sent = 0;
	while (sent < count)
	{
		int n = ::sendmmsg(_fd, _out + sent, count - sent, MSG_DONTWAIT);
		if (n <= 0)
		{
			if (n < 0 && errno == EINTR)
				continue;
			_stats.sendErrors.fetch_add(count - sent, std::memory_order_relaxed);
			return;
		}
		sent += static_cast<unsigned>(n);
	}
}

} // namespace dnsproxy::frontend
