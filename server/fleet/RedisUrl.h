// RedisUrl.h - the fleet's Redis URL (redis://, rediss://, redis+sentinel://) split into its parts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::fleet
{

/// One Redis or Sentinel address. `host` may be a name (resolved at each connect) or a numeric
/// address; IPv6 is stored without its brackets.
struct RedisEndpoint
{
	std::string host;
	uint16_t port = 6379;

	/// host:port as Poco::Net::SocketAddress accepts it ([v6]:port for IPv6).
	std::string hostAndPort() const;
	bool operator==(const RedisEndpoint& other) const
	{
		return host == other.host && port == other.port;
	}
};

/// Where the fleet's Redis lives, and how to reach it:
///
///   redis://[[user]:password@]host:port[/db]                        plain TCP
///   rediss://[[user]:password@]host:port[/db]                       TLS, certificate checked against host
///   redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db]
///
/// The credentials (percent-encoding allowed) are sent with AUTH to the data node, never to a
/// Sentinel. For a Sentinel URL `sentinels` lists the Sentinels and `master` the monitored name;
/// `host`/`port` are unused (the master is asked from the Sentinels at each connect).
struct RedisUrl
{
	enum class Scheme
	{
		PLAIN,
		TLS,
		SENTINEL
	};

	Scheme scheme = Scheme::PLAIN;
	std::string host;
	uint16_t port = 6379;
	uint32_t db = 0;
	std::string user;     ///< ACL user; empty = the default user
	std::string password; ///< empty = no AUTH
	std::vector<RedisEndpoint> sentinels;
	std::string master;

	/// nullopt when `text` is not one of the forms above: port 1-65535, db 0-1000000, an IPv6 host a
	/// valid address in brackets, a master name of letters, digits and "-_.", a user without a
	/// password refused. A host without ':' is not checked here: the config table checks it is a
	/// host name (RFC 1035) or an IPv4 address.
	static std::optional<RedisUrl> parse(const std::string& text);
	/// host:port of a direct URL ([v6]:port for IPv6).
	std::string hostAndPort() const;
	/// For log lines, never with the password: "127.0.0.1:6379", "tls 127.0.0.1:6380",
	/// "master mymaster via sentinel 127.0.0.1:26379,127.0.0.1:26380".
	std::string describe() const;
	/// Every host of the URL (the Sentinels' for a Sentinel URL), for the config check.
	std::vector<std::string> hosts() const;
};

} // namespace dnsproxy::fleet
