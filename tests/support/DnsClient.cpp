// DnsClient.cpp - UDP and framed TCP DNS exchanges for tests.
#include "support/DnsClient.h"

#include "support/PacketBuilder.h"

#include <Poco/Exception.h>
#include <Poco/Timespan.h>

#include <algorithm>

namespace dnsproxy::test
{

namespace
{

Poco::Timespan toTimespan(std::chrono::milliseconds timeout)
{
	auto ms = std::max<std::chrono::milliseconds::rep>(1, timeout.count());
	return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms) * 1000);
}

} // namespace

UdpDnsClient::UdpDnsClient(const Poco::Net::SocketAddress& server):
	_socket(server.family())
{
	_socket.connect(server);
}

void UdpDnsClient::send(const std::vector<uint8_t>& query)
{
	_socket.sendBytes(query.data(), static_cast<int>(query.size()));
}

std::optional<std::vector<uint8_t>> UdpDnsClient::receive(std::chrono::milliseconds timeout)
{
	std::vector<uint8_t> buffer(65535);
	try
	{
		_socket.setReceiveTimeout(toTimespan(timeout));
		int n = _socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
		if (n < 0)
			return std::nullopt;
		buffer.resize(static_cast<size_t>(n));
		return buffer;
	}
	catch (const Poco::TimeoutException&)
	{
		return std::nullopt;
	}
}

std::optional<std::vector<uint8_t>> UdpDnsClient::exchange(const std::vector<uint8_t>& query,
														   std::chrono::milliseconds timeout)
{
	send(query);
	return receive(timeout);
}

TcpDnsClient::TcpDnsClient(const Poco::Net::SocketAddress& server):
	_socket(server)
{
	_socket.setNoDelay(true);
}

void TcpDnsClient::send(const std::vector<std::vector<uint8_t>>& queries)
{
	std::vector<uint8_t> out;
	for (const auto& query : queries)
	{
		const auto framed = tcpFramed(query);
		out.insert(out.end(), framed.begin(), framed.end());
	}
	size_t offset = 0;
	while (offset < out.size())
		offset += static_cast<size_t>(_socket.sendBytes(out.data() + offset, static_cast<int>(out.size() - offset)));
}

std::optional<std::vector<uint8_t>> TcpDnsClient::receive(std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;)
	{
		if (auto message = takeTcpFrame(_input))
			return message;
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0)
			return std::nullopt;
		uint8_t buffer[4096];
		try
		{
			_socket.setReceiveTimeout(toTimespan(left));
			int n = _socket.receiveBytes(buffer, sizeof(buffer));
			if (n <= 0)
				return std::nullopt; // closed by the server
			_input.insert(_input.end(), buffer, buffer + n);
		}
		catch (const Poco::TimeoutException&)
		{
			return std::nullopt;
		}
	}
}

} // namespace dnsproxy::test
