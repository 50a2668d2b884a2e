// ClientAcl.cpp - CIDR matching for client addresses.
#include "frontend/ClientAcl.h"

#include <netinet/in.h>

#include <cstring>

namespace dnsproxy::frontend
{

namespace
{

bool matches(const ClientAcl::Network& network, const uint8_t* address)
{
	unsigned full = network.bits / 8;
	if (std::memcmp(network.prefix.data(), address, full) != 0)
		return false;
	unsigned rest = network.bits % 8;
	if (rest == 0)
		return true;
	uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
	return (network.prefix[full] & mask) == (address[full] & mask);
}

} // namespace

ClientAcl::ClientAcl(std::vector<Network> networks):
	_networks(std::move(networks))
{
}

bool ClientAcl::allows(const Poco::Net::SocketAddress& address) const
{
	return allows(address.addr());
}

bool ClientAcl::allows(const sockaddr* sa) const
{
	uint8_t bytes[16];
	bool ipv6 = false;
	if (sa->sa_family == AF_INET)
		std::memcpy(bytes, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
	else if (sa->sa_family == AF_INET6)
	{
		const auto* a6 = &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
		static const uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (std::memcmp(a6->s6_addr, MAPPED, 12) == 0)
			std::memcpy(bytes, a6->s6_addr + 12, 4);
		else
		{
			std::memcpy(bytes, a6->s6_addr, 16);
			ipv6 = true;
		}
	}
	else
		return false;
	for (const auto& network : _networks)
	{
		if (network.ipv6 == ipv6 && matches(network, bytes))
			return true;
	}
	return false;
}

} // namespace dnsproxy::frontend
