// ConfigExposure.cpp - ConfigLoader::exposureWarning: an open resolver reachable beyond loopback.
#include "app/ConfigLoader.h"
#include "app/ConfigTable.h"
#include "frontend/ClientAcl.h"

#include <arpa/inet.h>

#include <cstring>

namespace dnsproxy::app
{

namespace
{

bool isLoopback(const std::string& host)
{
	uint8_t bytes[16] = {};
	if (inet_pton(AF_INET, host.c_str(), bytes) == 1)
		return bytes[0] == 127;
	if (inet_pton(AF_INET6, host.c_str(), bytes) != 1)
		return false;
	static const uint8_t LOOPBACK6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return std::memcmp(bytes, LOOPBACK6, 16) == 0 || (std::memcmp(bytes, MAPPED, 12) == 0 && bytes[12] == 127);
}

/// True when every address of `net` is loopback, RFC 1918, link-local or ULA.
bool isPrivate(const Cidr& net)
{
	static const std::vector<Cidr> PRIVATE = [] {
		std::vector<Cidr> networks;
		for (const char* text : {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
								 "::1/128", "fc00::/7", "fe80::/10"})
			networks.push_back(*ConfigLoader::parseCidr(text));
		return networks;
	}();
	for (const auto& range : PRIVATE)
	{
		// An IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) counts by its IPv4 part.
		const auto& n = net.network;
		const unsigned bits = n.ipv6 && !range.network.ipv6 ? (n.bits >= 96 ? n.bits - 96 : 0) : n.bits;
		if (bits >= range.network.bits && frontend::ClientAcl::contains(range.network, n.prefix.data(), n.ipv6))
			return true;
	}
	return false;
}

} // namespace

std::string ConfigLoader::exposureWarning(const Config& config)
{
	std::string exposed;
	for (const auto& address : config.server.listen)
		if (!isLoopback(address.host))
			exposed += (exposed.empty() ? "" : ", ") + keys::SERVER_LISTEN.dotted() + " " + address.toString();
	if (!config.admin.listen.empty())
	{
		const auto admin = parseHostPort(config.admin.listen, 8053);
		if (admin && !isLoopback(admin->host))
			exposed += (exposed.empty() ? "" : ", ") + keys::ADMIN_LISTEN.dotted() + " " + admin->toString();
	}
	if (exposed.empty())
		return {};
	std::string publicNets;
	for (const auto& net : config.server.allow)
		if (!isPrivate(net))
			publicNets += (publicNets.empty() ? "" : ", ") + net.text;
	if (publicNets.empty())
		return {};
	return "public networks in " + keys::SERVER_ALLOW.dotted() + " (" + publicNets +
		   ") and listeners beyond loopback (" + exposed +
		   "): anyone who reaches them can use this proxy, and an open resolver is abused for reflection "
		   "attacks; narrow " +
		   keys::SERVER_ALLOW.dotted() + " to your own networks";
}

} // namespace dnsproxy::app
