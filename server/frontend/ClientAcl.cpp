// ClientAcl.cpp - CIDR parsing and matching for client addresses.
#include "frontend/ClientAcl.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
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

/// A client address in the one form the rule compares: an IPv4 client (AF_INET, or ::ffff:a.b.c.d from a
/// dual-stack socket) as its IPv4-mapped IPv6 address, whose last four bytes are the IPv4 address.
struct Client
{
	Client(const uint8_t* address, bool ipv6)
	{
		if (ipv6)
		{
			std::memcpy(bytes, address, 16);
			ipv4 = std::memcmp(address, MAPPED, sizeof(MAPPED)) == 0;
		}
		else
		{
			std::memcpy(bytes, MAPPED, sizeof(MAPPED));
			std::memcpy(bytes + 12, address, 4);
			ipv4 = true;
		}
	}

	uint8_t bytes[16];
	bool ipv4;
};

/// The rule of ClientAcl.h: an IPv4 network matches IPv4 clients by their 32 bits; an IPv6 network matches
/// every client by its IPv6 form (IPv4 clients by their IPv4-mapped form).
bool clientMatches(const ClientAcl::Network& network, const Client& client)
{
	if (!network.ipv6)
		return client.ipv4 && prefixMatches(network, client.bytes + 12);
	return prefixMatches(network, client.bytes);
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
		// Decimal digits only: from_chars takes no sign or space, and reports an overflow.
		const char* begin = text.data() + slash + 1;
		const char* end = text.data() + text.size();
		unsigned long long bits = 0;
		const auto parsed = std::from_chars(begin, end, bits);
		if (begin == end || parsed.ec != std::errc() || parsed.ptr != end || bits > width)
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
	return addr && clientMatches(net, Client(addr, ipv6));
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
	const Client client(bytes, ipv6);
	for (const auto& network : _networks)
		if (clientMatches(network, client))
			return true;
	return false;
}

} // namespace dnsproxy::frontend
