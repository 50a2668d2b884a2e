// ClientAcl.h - which client addresses may use the proxy (the configured allow list).
#pragma once

#include <Poco/Net/SocketAddress.h>

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::frontend
{

/// A list of IPv4 and IPv6 networks. Immutable after construction, so any thread may call allows().
///
/// The one matching rule (contains()): an IPv4 client, also one a dual-stack socket reports as
/// ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2), matches an IPv4 network by its 32 bits and an IPv6
/// network by its IPv4-mapped form, so `::/0` and `::ffff:127.0.0.0/104` admit 127.0.0.1. Any other
/// IPv6 client matches IPv6 networks only, so `0.0.0.0/0` admits IPv4 clients only.
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

	/// "10.0.0.0/8", "fc00::/7"; a bare address is /32 or /128. Host bits beyond the prefix are cleared.
	/// std::nullopt if malformed.
	static std::optional<Network> parse(const std::string& text);

	/// True if addr (4 or 16 network-order bytes, as ipv6 says) lies in net, by the rule above.
	static bool contains(const Network& net, const uint8_t* addr, bool ipv6);

	/// True when the address falls into one of the networks.
	bool allows(const Poco::Net::SocketAddress& address) const;
	/// The same for a raw AF_INET/AF_INET6 address (the UDP hit path builds no SocketAddress:
	/// in POCO 1.11 each one allocates its implementation object).
	bool allows(const sockaddr* address) const;

private:
	std::vector<Network> _networks;
};

} // namespace dnsproxy::frontend
