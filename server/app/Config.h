// Config.h - one plain struct per INI section of etc/dnsproxy.ini; in-class defaults equal SPEC section 3.
#pragma once

#include "frontend/ClientAcl.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dnsproxy::app
{

/// A host and port as written in the configuration ("127.0.0.1:53", "[::1]:53").
struct ListenAddress
{
	std::string host; ///< numeric IPv4 or IPv6 address, without brackets
	uint16_t port = 53;

	std::string toString() const; ///< "127.0.0.1:53" or "[::1]:53"
};

/// One CIDR network of [server] allow.
struct Cidr
{
	std::string text; ///< as written, e.g. "10.0.0.0/8"
	frontend::ClientAcl::Network network;
};

struct ServerConfig
{
	std::vector<ListenAddress> listen{{"127.0.0.1", 53}};
	bool udp = true; ///< protocols contains "udp"
	bool tcp = true; ///< protocols contains "tcp"
	std::vector<Cidr> allow;  ///< filled with the SPEC defaults by ConfigLoader
	uint32_t tcpIdleTimeoutMs = 10000;
	uint32_t maxTcpConnections = 1024;
	uint32_t maxPending = 10000;
	uint16_t udpPayloadSize = 1232;
	uint32_t threads = 0; ///< 0 = one per core
	uint32_t udpBatchWaitUs = 200; ///< not in SPEC: adaptive UDP batching (frontend::BatchPacer); 0 = off
	/// Not in SPEC: the account a root-started proxy switches to once its database is open (Privileges);
	/// empty = "dnsproxy" when that account exists, else root keeping only CAP_NET_BIND_SERVICE.
	std::string user;
};

/// One entry of [upstream] servers: "IP[:port]#auth-name".
struct UpstreamServerConfig
{
	std::string address; ///< numeric IP, no brackets
	uint16_t port = 853;
	std::string authName; ///< checked against the certificate; may be empty (then the IP is checked)

	std::string endpoint() const; ///< "1.1.1.1:853" or "[2606:4700::1111]:853"
};

enum class Strategy
{
	FAILOVER,
	ROUND_ROBIN,
	FASTEST
};

struct UpstreamConfig
{
	std::vector<UpstreamServerConfig> servers{{"1.1.1.1", 853, "cloudflare-dns.com"}, {"1.0.0.1", 853, "cloudflare-dns.com"}};
	Strategy strategy = Strategy::FAILOVER;
	uint32_t timeoutMs = 2000;
	uint32_t connections = 1;
	uint32_t maxInflight = 100;
	uint32_t idleTimeoutMs = 30000;
	bool keepalive = true;
	bool padding = true;
};

enum class TlsProfile
{
	STRICT,
	OPPORTUNISTIC
};

enum class PinPolicy
{
	OFF,
	LEARN,
	ENFORCE
};

/// One configured SPKI pin: auth-name and the 32-byte SHA-256 of the SubjectPublicKeyInfo.
struct PinConfig
{
	std::string name;
	std::string sha256Base64;
	std::vector<uint8_t> sha256; ///< decoded, 32 bytes
};

struct TlsConfig
{
	TlsProfile profile = TlsProfile::STRICT;
	std::string caFile = "/etc/ssl/certs/ca-certificates.crt";
	std::vector<PinConfig> pins;
	PinPolicy pinPolicy = PinPolicy::LEARN;
	bool sessionResumption = true;
	std::string minVersion = "1.2"; ///< "1.2" or "1.3"
};

struct CacheConfig
{
	bool enabled = true;
	uint32_t maxEntries = 100000;
	uint32_t minTtl = 0;
	uint32_t maxTtl = 86400;
	uint32_t negativeTtl = 900;
	bool serveStale = true;
	uint32_t staleAnswerTtl = 30;
	uint32_t maxStale = 86400;
	bool prefetch = true;
};

struct StorageConfig
{
	std::string path = "/var/lib/dnsproxy/dnsproxy.db";
	uint32_t flushIntervalMs = 5000;
};

struct FleetConfig
{
	std::string redis; ///< empty = off
	std::string keyPrefix = "dnsproxy:";
	uint32_t timeoutMs = 50;
};

struct AdminConfig
{
	std::string listen = "127.0.0.1:8053"; ///< empty = admin server off
	std::string token;
};

struct LogConfig
{
	std::string level = "information";
	bool queries = false;
};

struct Config
{
	ServerConfig server;
	UpstreamConfig upstream;
	TlsConfig tls;
	CacheConfig cache;
	StorageConfig storage;
	FleetConfig fleet;
	AdminConfig admin;
	LogConfig log;
};

} // namespace dnsproxy::app
