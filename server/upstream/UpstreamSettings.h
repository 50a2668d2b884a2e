// UpstreamSettings.h - the upstream side's own view of [upstream] and [tls], filled by app/.
#pragma once

#include <Poco/Net/SocketAddress.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dnsproxy::upstream
{

/// One DoT server: where to connect and which name its certificate must carry.
struct ServerEndpoint
{
	Poco::Net::SocketAddress address;
	std::string authName; ///< SNI and hostname verification; the IP is checked when empty

	std::string url() const
	{
		return "tcp+tls://" + address.toString();
	}
};

enum class SelectionStrategy
{
	FAILOVER,
	ROUND_ROBIN,
	FASTEST
};

struct ConnectionSettings
{
	uint32_t timeoutMs = 2000;      ///< per attempt, also the connect + handshake budget
	uint32_t maxInflight = 100;     ///< pipelined queries per connection
	uint32_t idleTimeoutMs = 30000; ///< close an unused connection after this
	bool sessionResumption = true;
	/// RFC 8310 opportunistic profile: unauthenticated TLS, then clear text to port 53, are allowed
	/// (never clear text for a server seen speaking TLS). Strict when false.
	bool opportunistic = false;
};

struct PoolSettings
{
	std::vector<ServerEndpoint> servers;
	SelectionStrategy strategy = SelectionStrategy::FAILOVER;
	uint32_t connectionsPerServer = 1;
	bool keepalive = true; ///< send EDNS tcp-keepalive (RFC 7828)
	bool padding = true;   ///< pad queries to 128-octet blocks (RFC 7830, RFC 8467)
	ConnectionSettings connection;
};

struct TlsSettings
{
	std::string caFile;
	bool verify = true;             ///< strict profile: chain to caFile and auth-name must match
	std::string minVersion = "1.2"; ///< "1.2" or "1.3"
	bool sessionResumption = true;
};

} // namespace dnsproxy::upstream
