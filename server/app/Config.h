// Config.h - one plain struct per INI section of etc/dnsproxy.ini.
//
// The defaults are not here: every key's default, parser and printer is one row of the table in
// ConfigTable.cpp (configKeys()), and ConfigLoader::defaults() is a Config filled from it. A
// default-constructed Config holds zeros and empty values (and [cache] the cache's own defaults).
#pragma once

#include "cache/CacheSettings.h"
#include "frontend/ClientAcl.h"
#include "upstream/UpstreamSettings.h"

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

/// One CIDR network of the client allow list.
struct Cidr
{
	std::string text; ///< as written, e.g. "10.0.0.0/8"
	frontend::ClientAcl::Network network;
};

struct ServerConfig
{
	std::vector<ListenAddress> listen;
	bool udp = false; ///< protocols contains "udp"
	bool tcp = false; ///< protocols contains "tcp"
	std::vector<Cidr> allow;
	uint32_t tcpIdleTimeoutMs = 0;
	uint32_t maxTcpConnections = 0;
	uint32_t maxPending = 0;
	uint16_t udpPayloadSize = 0;
	uint32_t threads = 0;        ///< 0 = one per core
	uint32_t udpBatchWaitUs = 0; ///< not in SPEC: adaptive UDP batching (frontend::BatchPacer); 0 = off
	/// Not in SPEC: the account a root-started proxy switches to once its database is open (Privileges);
	/// empty = "dnsproxy" when that account exists, else root keeping only CAP_NET_BIND_SERVICE.
	std::string user;
	std::vector<ListenAddress> tlsListen;   ///< DNS over TLS for clients (RFC 7858); empty = none
	std::vector<ListenAddress> httpsListen; ///< DNS over HTTPS for clients (RFC 8484); empty = none
	std::string tlsCertFile; ///< PEM chain of the encrypted listeners; empty with tlsKeyFile = self-signed
	std::string tlsKeyFile;
	std::string dohPath;
	uint32_t tlsHandshakeTimeoutMs = 0;  ///< not in SPEC: a TLS client must finish its handshake in this time
	uint32_t tlsHandshakesPerSource = 0; ///< not in SPEC: new handshakes per second per source address; 0 = no limit
};

/// One upstream server as configured: "IP[:port]#auth-name".
struct UpstreamServerConfig
{
	std::string address; ///< numeric IP, no brackets
	uint16_t port = 853;
	std::string authName; ///< checked against the certificate; may be empty (then the IP is checked)

	std::string endpoint() const; ///< "1.1.1.1:853" or "[2606:4700::1111]:853"
};

struct UpstreamConfig
{
	std::vector<UpstreamServerConfig> servers;
	upstream::SelectionStrategy strategy = upstream::SelectionStrategy::FAILOVER;
	uint32_t timeoutMs = 0;
	uint32_t connections = 0;
	uint32_t maxInflight = 0;
	uint32_t idleTimeoutMs = 0;
	bool keepalive = false;
	bool padding = false;
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
	std::string caFile;
	std::vector<PinConfig> pins;
	PinPolicy pinPolicy = PinPolicy::OFF;
	bool sessionResumption = false;
	std::string minVersion; ///< "1.2" or "1.3"
};

/// [cache]: the packet cache's own settings (its keys are rows of the table) and the switch.
struct CacheConfig: cache::CacheSettings
{
	bool enabled = false;
};

struct StorageConfig
{
	std::string path;
	uint32_t flushIntervalMs = 0;
};

struct FleetConfig
{
	std::string redis; ///< empty = off
	std::string keyPrefix;
	uint32_t timeoutMs = 0;
	std::string caFile; ///< for rediss://; empty = the [tls] CA file
	std::string secret; ///< HMAC key (read from the file for "@/path"); empty = unsigned, pins not shared
};

struct AdminConfig
{
	std::string listen; ///< empty = admin server off
	std::string token;
};

struct LogConfig
{
	std::string level;
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
