// ClientAcl.h - which client addresses may use the proxy ([server] allow).
#pragma once

#include <Poco/Net/SocketAddress.h>

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <vector>

namespace dnsproxy::frontend
{

/// A list of IPv4 and IPv6 networks. Immutable after construction, so any thread may call allows().
class ClientAcl
{
public:
	struct Network
	{
		bool ipv6 = false;
		std::array<uint8_t, 16> prefix{}; ///< network-order bytes; the first 4 for IPv4
		unsigned bits = 0;
	};

	ClientAcl() = default;
	explicit ClientAcl(std::vector<Network> networks);

	/// True when the address falls into one of the networks. An IPv4-mapped IPv6 address
	/// (::ffff:a.b.c.d) is checked as the IPv4 address it carries.
	bool allows(const Poco::Net::SocketAddress& address) const;
	/// The same for a raw AF_INET/AF_INET6 address (the UDP hit path builds no SocketAddress:
	/// in POCO 1.11 each one allocates its implementation object).
	bool allows(const sockaddr* address) const;

private:
	std::vector<Network> _networks;
};

} // namespace dnsproxy::frontend
