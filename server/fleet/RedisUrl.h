// RedisUrl.h - the [fleet] redis setting, redis://host:port[/db], split into its parts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace dnsproxy::fleet
{

/// Where the fleet's Redis lives. `host` may be a name (resolved at each connect, so a Redis
/// container that comes back with a new address is found again) or a numeric address; IPv6 is
/// written in brackets in the URL and stored without them.
struct RedisUrl
{
	std::string host;
	uint16_t port = 6379;
	uint32_t db = 0;

	/// nullopt when `text` is not redis://host:port[/db], port 1-65535, db 0-1000000, an IPv6 host a
	/// valid address in brackets. A host without ':' is not checked here: the config table checks it is
	/// a host name (RFC 1035) or an IPv4 address.
	static std::optional<RedisUrl> parse(const std::string& text);
	/// host:port as Poco::Net::SocketAddress accepts it ([v6]:port for IPv6).
	std::string hostAndPort() const;
};

} // namespace dnsproxy::fleet
