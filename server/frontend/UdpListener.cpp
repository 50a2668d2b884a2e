// UdpListener.cpp - batched UDP receive and thread-safe UDP answers.
#include "frontend/UdpListener.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace dnsproxy::frontend
{

namespace
{

constexpr int BATCH = 32;
constexpr size_t MAX_DATAGRAM = 65535;

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

} // namespace

UdpListener::UdpListener(EventLoop& loop, const Poco::Net::SocketAddress& address, QueryHandler& handler,
						 stats::FrontendStats& stats):
	_loop(loop),
	_handler(handler),
	_stats(stats)
{
	Poco::Net::DatagramSocket socket(address.family());
	if (address.family() == Poco::Net::SocketAddress::IPv6)
		socket.impl()->bind6(address, true, true, true);
	else
		socket.bind(address, true, true);
	socket.setBlocking(false);
	_socket = std::make_shared<Socket>(Socket{socket, stats});
	_fd = socket.impl()->sockfd();
	_loop.add(_fd, this);
}

UdpListener::~UdpListener()
{
	_loop.remove(_fd);
}

void UdpListener::onReadable()
{
	// One receive buffer set per listener, reused: the query is copied out into its own vector
	// (which then travels through the pipeline), so nothing else is allocated per datagram.
	static thread_local std::vector<uint8_t> buffers(BATCH * MAX_DATAGRAM);
	mmsghdr msgs[BATCH];
	iovec iovs[BATCH];
	sockaddr_storage peers[BATCH];
	for (int round = 0; round < 8; ++round)
	{
		for (int i = 0; i < BATCH; ++i)
		{
			iovs[i].iov_base = buffers.data() + static_cast<size_t>(i) * MAX_DATAGRAM;
			iovs[i].iov_len = MAX_DATAGRAM;
			std::memset(&msgs[i].msg_hdr, 0, sizeof(msghdr));
			msgs[i].msg_hdr.msg_iov = &iovs[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &peers[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
		}
		int n = ::recvmmsg(_fd, msgs, BATCH, MSG_DONTWAIT, nullptr);
		if (n <= 0)
			return;
		for (int i = 0; i < n; ++i)
		{
			const auto* data = static_cast<const uint8_t*>(iovs[i].iov_base);
			std::vector<uint8_t> query(data, data + msgs[i].msg_len);
			ClientInfo client{Poco::Net::SocketAddress(reinterpret_cast<const sockaddr*>(&peers[i]),
													   static_cast<poco_socklen_t>(msgs[i].msg_hdr.msg_namelen)),
							  Transport::UDP};
			stats::bump(_stats.udpQueries);
			auto responder = std::make_shared<UdpResponder>(_socket, peers[i], msgs[i].msg_hdr.msg_namelen);
			_handler.handleQuery(std::move(query), client, std::move(responder));
		}
		if (n < BATCH)
			return;
	}
}

} // namespace dnsproxy::frontend
