// DnsClient.h - plain DNS over UDP and TCP (RFC 1035 4.2) for tests that talk to the proxy's front end.
#pragma once

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace dnsproxy::test
{

/// One UDP socket (connected to the server, so only its datagrams come back).
/// Not thread-safe: one test thread uses it.
class UdpDnsClient
{
public:
	explicit UdpDnsClient(const Poco::Net::SocketAddress& server);

	void send(const std::vector<uint8_t>& query);
	/// The next datagram, or nothing within `timeout`.
	std::optional<std::vector<uint8_t>> receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
	/// send() then receive().
	std::optional<std::vector<uint8_t>> exchange(const std::vector<uint8_t>& query,
												 std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

private:
	Poco::Net::DatagramSocket _socket;
};

/// One TCP connection with 2-byte length framing; several queries may be sent before any answer
/// is read (pipelining). Not thread-safe: one test thread uses it.
class TcpDnsClient
{
public:
	explicit TcpDnsClient(const Poco::Net::SocketAddress& server);

	/// Frames every query and writes them all in one send, so the server sees them together.
	void send(const std::vector<std::vector<uint8_t>>& queries);
	void send(const std::vector<uint8_t>& query)
	{
		send(std::vector<std::vector<uint8_t>>{query});
	}
	/// The next whole message, or nothing when none is complete within `timeout` or the server closed.
	std::optional<std::vector<uint8_t>> receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

private:
	Poco::Net::StreamSocket _socket;
	std::vector<uint8_t> _input;
};

} // namespace dnsproxy::test
