// ClientAcl.cpp - CIDR parsing and matching for client addresses.
#include "frontend/ClientAcl.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace dnsproxy::frontend
{

namespace
{

const uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}; // RFC 4291 section 2.5.5.2

bool prefixMatches(const ClientAcl::Network& network, const uint8_t* address)
{
	const unsigned full = network.bits / 8;
	if (std::memcmp(network.prefix.data(), address, full) != 0)
		return false;
	const unsigned rest = network.bits % 8;
	if (rest == 0)
		return true;
	const uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
	return (network.prefix[full] & mask) == (address[full] & mask);
}

} // namespace

ClientAcl::ClientAcl(std::vector<Network> networks):
	_networks(std::move(networks))
{
}

std::optional<ClientAcl::Network> ClientAcl::parse(const std::string& text)
{
	const auto slash = text.find('/');
	const std::string address = text.substr(0, slash);
	Network net;
	if (inet_pton(AF_INET, address.c_str(), net.prefix.data()) == 1)
		net.ipv6 = false;
	else if (inet_pton(AF_INET6, address.c_str(), net.prefix.data()) == 1)
		net.ipv6 = true;
	else
		return std::nullopt;
	const unsigned width = net.ipv6 ? 128 : 32;
	net.bits = width;
	if (slash != std::string::npos)
	{
		const std::string digits = text.substr(slash + 1);
		if (digits.empty() || digits.size() > 18 ||
			!std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
			return std::nullopt;
		const unsigned long long bits = std::stoull(digits);
		if (bits > width)
			return std::nullopt;
		net.bits = static_cast<unsigned>(bits);
	}
	for (unsigned i = 0; i < net.prefix.size(); ++i)
	{
		const unsigned keep = net.bits > i * 8 ? std::min(8u, net.bits - i * 8) : 0;
		net.prefix[i] &= static_cast<uint8_t>(0xff00u >> keep);
	}
	return net;
}

bool ClientAcl::contains(const Network& net, const uint8_t* addr, bool ipv6)
{
	if (!addr)
		return false;
	// Reduce the client to one form first: IPv4-mapped IPv6 is IPv4.
	uint8_t client[16];
	bool clientV6 = ipv6;
	if (ipv6 && std::memcmp(addr, MAPPED, sizeof(MAPPED)) == 0)
	{
		std::memcpy(client, addr + 12, 4);
		clientV6 = false;
	}
	else
		std::memcpy(client, addr, ipv6 ? 16 : 4);

	if (net.ipv6 == clientV6)
		return prefixMatches(net, client);
	if (clientV6)
		return false; // a native IPv6 client never matches an IPv4 network
	// An IPv4 client against an IPv6 network: compare its IPv4-mapped form.
	uint8_t mapped[16];
	std::memcpy(mapped, MAPPED, sizeof(MAPPED));
	std::memcpy(mapped + 12, client, 4);
	return prefixMatches(net, mapped);
}

bool ClientAcl::allows(const Poco::Net::SocketAddress& address) const
{
	return allows(address.addr());
}

bool ClientAcl::allows(const sockaddr* sa) const
{
	const uint8_t* bytes = nullptr;
	bool ipv6 = false;
	if (sa->sa_family == AF_INET)
		bytes = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
	else if (sa->sa_family == AF_INET6)
	{
		bytes = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
		ipv6 = true;
	}
	else
		return false;
	for (const auto& network : _networks)
		if (contains(network, bytes, ipv6))
			return true;
	return false;
}

} // namespace dnsproxy::frontend
