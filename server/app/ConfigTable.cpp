// ConfigTable.cpp - every INI key of dnsproxy (SPEC section 3): its default, parser and printer, in one table.
#include "app/ConfigTable.h"

#include "app/ConfigLoader.h"
#include "app/ConfigRows.h"
#include "app/ConfigText.h"
#include "app/Privileges.h"
#include "fleet/RedisUrl.h"
#include "frontend/QueryHandler.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace dnsproxy::app
{

namespace
{

using namespace text;
using namespace rows;

const unsigned MAX_SECONDS = 2147483647; // RFC 2181 section 8: TTLs are 31-bit
const unsigned MAX_MS = 86400000;        // one day; longer timeouts are surely a typo
const size_t PIN_LENGTH = 32;            // SHA-256 (RFC 7858 section 4.2)
// A spoofed query with a large EDNS size must not buy an answer of up to 64 KiB for its victim: 4096 is
// the largest EDNS size RFC 6891 section 6.2.5 discusses, and unbound's max-udp-size default.
const unsigned MIN_UDP_PAYLOAD = 512;
const unsigned MAX_UDP_PAYLOAD = 4096;


const Choices<upstream::SelectionStrategy> STRATEGIES{{"failover", upstream::SelectionStrategy::FAILOVER},
													  {"round_robin", upstream::SelectionStrategy::ROUND_ROBIN},
													  {"fastest", upstream::SelectionStrategy::FASTEST}};
const Choices<TlsProfile> PROFILES{{"strict", TlsProfile::STRICT}, {"opportunistic", TlsProfile::OPPORTUNISTIC}};
const Choices<PinPolicy> PIN_POLICIES{
	{"off", PinPolicy::OFF}, {"learn", PinPolicy::LEARN}, {"enforce", PinPolicy::ENFORCE}};
const Choices<std::string> TLS_VERSIONS{{"1.2", "1.2"}, {"1.3", "1.3"}};
const Choices<std::string> LOG_LEVELS{
	{"none", "none"},       {"fatal", "fatal"},   {"critical", "critical"},       {"error", "error"},
	{"warning", "warning"}, {"notice", "notice"}, {"information", "information"}, {"debug", "debug"},
	{"trace", "trace"}};

// Value parsers and row builders: ConfigRows.h.

std::vector<ListenAddress> toListen(const std::string& key, const std::string& value, uint16_t defaultPort = 53,
									bool mayBeEmpty = false)
{
	std::vector<ListenAddress> addresses;
	std::set<std::string> seen;
	for (const auto& item : splitList(value))
	{
		const auto address = ConfigLoader::parseHostPort(item, defaultPort);
		if (!address)
			fail(key, "expected a numeric IP[:port] (IPv6 as [::1]:" + std::to_string(defaultPort) + "), got " +
						  quoted(item));
		if (!seen.insert(address->toString()).second)
			fail(key, address->toString() + " is listed twice");
		addresses.push_back(*address);
	}
	if (addresses.empty() && !mayBeEmpty)
		fail(key, "needs at least one address");
	return addresses;
}

void toProtocols(const std::string& key, const std::string& value, ServerConfig& server)
{
	server.udp = false;
	server.tcp = false;
	for (const auto& item : splitList(value))
	{
		const std::string protocol = lower(item);
		if (protocol == frontend::transportName(frontend::Transport::UDP))
			server.udp = true;
		else if (protocol == frontend::transportName(frontend::Transport::TCP))
			server.tcp = true;
		else
			fail(key, "expected udp and/or tcp, got " + quoted(item));
	}
	if (!server.udp && !server.tcp)
		fail(key, "needs udp, tcp or both");
}

std::vector<Cidr> toAllow(const std::string& key, const std::string& value)
{
	std::vector<Cidr> networks;
	for (const auto& item : splitList(value))
	{
		const auto cidr = ConfigLoader::parseCidr(item);
		if (!cidr)
			fail(key, "expected an IPv4 or IPv6 network like 10.0.0.0/8 or fc00::/7, got " + quoted(item));
		networks.push_back(*cidr);
	}
	if (networks.empty())
		fail(key, "must not be empty (it would refuse every client)");
	return networks;
}

std::vector<UpstreamServerConfig> toServers(const std::string& key, const std::string& value)
{
	std::vector<UpstreamServerConfig> servers;
	std::set<std::string> seen;
	for (const auto& item : splitList(value))
	{
		const auto hash = item.find('#');
		const std::string hostPort = trim(item.substr(0, hash));
		const std::string authName = hash == std::string::npos ? "" : trim(item.substr(hash + 1));
		const auto address = ConfigLoader::parseHostPort(hostPort, 853);
		if (!address)
			fail(key, "expected IP[:port]#auth-name (IPv6 as [2606:4700::1111]:853#name), got " + quoted(item));
		if (!authName.empty() && !isHostName(authName))
			fail(key, "bad auth-name " + quoted(authName) + " in " + quoted(item));
		UpstreamServerConfig server{address->host, address->port, authName};
		if (!seen.insert(server.endpoint()).second)
			fail(key, server.endpoint() + " is listed twice");
		servers.push_back(server);
	}
	if (servers.empty())
		fail(key, "needs at least one server");
	return servers;
}

std::vector<PinConfig> toPins(const std::string& key, const std::string& value)
{
	std::vector<PinConfig> pins;
	for (const auto& item : splitList(value))
	{
		const auto colon = item.find(':');
		if (colon == std::string::npos)
			fail(key, "expected auth-name:base64-sha256, got " + quoted(item));
		PinConfig pin;
		pin.name = trim(item.substr(0, colon));
		pin.sha256Base64 = trim(item.substr(colon + 1));
		if (!isHostName(pin.name))
			fail(key, "bad auth-name " + quoted(pin.name) + " in " + quoted(item));
		const auto digest = decodeBase64(pin.sha256Base64);
		if (!digest)
			fail(key, "bad base64 " + quoted(pin.sha256Base64) + " for " + pin.name);
		if (digest->size() != PIN_LENGTH)
			fail(key, "wrong length " + std::to_string(digest->size()) + " bytes for " + pin.name +
						  " (a SHA-256 pin has 32), got " + quoted(pin.sha256Base64));
		pin.sha256 = *digest;
		pins.push_back(pin);
	}
	return pins;
}

/// doh_path: an absolute path without query, fragment or spaces ("/dns-query").
std::string toDohPath(const std::string& key, const std::string& value)
{
	if (value.empty() || value.front() != '/' || value.find_first_of("?# \t%") != std::string::npos)
		fail(key, "expected an absolute URL path like /dns-query, got " + quoted(value));
	return value;
}

std::string listenText(const std::vector<ListenAddress>& addresses)
{
	std::vector<std::string> texts;
	for (const auto& address : addresses)
		texts.push_back(address.toString());
	return join(texts);
}

/// A URL as fleet::RedisUrl reads it, every host a name, an IPv4 or a bracketed IPv6 address.
void checkRedis(const std::string& key, const std::string& value)
{
	const auto url = fleet::RedisUrl::parse(value);
	bool hostsOk = url.has_value();
	// RedisUrl has checked an IPv6 host (the only kind with ':'); anything else must be a name or IPv4.
	for (const auto& host : url ? url->hosts() : std::vector<std::string>())
		hostsOk = hostsOk && (host.find(':') != std::string::npos || isHostName(host));
	if (!hostsOk) // the value may hold a password: not repeated
		fail(key, "expected redis://[[user]:password@]host:port[/db], rediss://... (TLS), "
				  "redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db] or nothing");
}

/// fleet.redis as printed: the password replaced by TOKEN_SET, like admin.token.
std::string redactRedis(const std::string& url)
{
	const auto scheme = url.find("://");
	const auto at = url.rfind('@');
	if (scheme == std::string::npos || at == std::string::npos || at < scheme)
		return url;
	const auto colon = url.find(':', scheme + 3);
	if (colon == std::string::npos || colon > at)
		return url;
	return url.substr(0, colon + 1) + ConfigLoader::TOKEN_SET + url.substr(at);
}

/// fleet.secret: the value itself, or "@/path" for the first line of a file (so the secret need not
/// sit in the ini); surrounding whitespace is not part of it.
std::string toSecret(const std::string& key, const std::string& value)
{
	if (value.empty() || value.front() != '@')
		return value;
	const std::string path = value.substr(1);
	std::FILE* file = std::fopen(path.c_str(), "rb");
	if (!file)
		fail(key, "cannot read " + quoted(path) + ": " + std::strerror(errno));
	std::string secret;
	char buffer[512];
	for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0 && secret.size() < 65536;)
		secret.append(buffer, n);
	std::fclose(file);
	secret = trim(secret.substr(0, secret.find('\n')));
	if (secret.empty())
		fail(key, quoted(path) + " holds no secret");
	return secret;
}

/// tls.ca_file must be a readable regular file whatever the profile: an upstream that turns out to need it
/// must not fail at the first query.
void checkReadable(const std::string& key, const std::string& path)
{
	if (path.empty())
		fail(key, "must name a readable CA bundle");
	struct stat st
	{
	};
	if (::stat(path.c_str(), &st) != 0)
		fail(key, "cannot read " + quoted(path) + ": " + std::strerror(errno));
	if (S_ISDIR(st.st_mode))
		fail(key, "cannot read " + quoted(path) + ": " + std::strerror(EISDIR));
	std::FILE* file = std::fopen(path.c_str(), "rb");
	if (!file)
		fail(key, "cannot read " + quoted(path) + ": " + std::strerror(errno));
	std::fclose(file);
}

template <typename T, typename Text> std::string listOf(const std::vector<T>& items, const Text& textOf)
{
	std::vector<std::string> texts;
	for (const auto& item : items)
		texts.push_back(textOf(item));
	return join(texts);
}

const KeyName TLS_PIN_POLICY{"tls", "pin_policy"};

/// One row per key, in the SPEC's order; a list rather than logic, so longer than 60 lines.
std::vector<ConfigKey> makeTable()
{
	using C = Config;
	using K = const std::string&;
	return {
		{keys::SERVER_LISTEN.section, keys::SERVER_LISTEN.name, "127.0.0.1:53",
		 [](C& c, K k, K v) { c.server.listen = toListen(k, v); },
		 [](const C& c) { return listenText(c.server.listen); }},
		{"server", "protocols", "udp, tcp", [](C& c, K k, K v) { toProtocols(k, v, c.server); },
		 [](const C& c) {
			 const std::string udp = frontend::transportName(frontend::Transport::UDP);
			 const std::string tcp = frontend::transportName(frontend::Transport::TCP);
			 return join(c.server.udp && c.server.tcp ? std::vector<std::string>{udp, tcp}
													  : std::vector<std::string>{c.server.udp ? udp : tcp});
		 }},
		{keys::SERVER_ALLOW.section, keys::SERVER_ALLOW.name,
		 "127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7",
		 [](C& c, K k, K v) { c.server.allow = toAllow(k, v); },
		 [](const C& c) { return listOf(c.server.allow, [](const Cidr& n) { return n.text; }); }},
		number("server", "tcp_idle_timeout_ms", "10000", &C::server, &ServerConfig::tcpIdleTimeoutMs, 1, MAX_MS),
		number("server", "max_tcp_connections", "1024", &C::server, &ServerConfig::maxTcpConnections, 1, 1000000),
		restartOnly(number("server", "max_pending", "10000", &C::server, &ServerConfig::maxPending, 1, 10000000)),
		restartOnly(number("server", "udp_payload_size", "1232", &C::server, &ServerConfig::udpPayloadSize,
						   MIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD)),
		number("server", "threads", "0", &C::server, &ServerConfig::threads, 0, 256),
		number("server", "udp_batch_wait_us", "200", &C::server, &ServerConfig::udpBatchWaitUs, 0, 10000),
		{keys::SERVER_TLS_LISTEN.section, keys::SERVER_TLS_LISTEN.name, "",
		 [](C& c, K k, K v) { c.server.tlsListen = toListen(k, v, 853, true); },
		 [](const C& c) { return listenText(c.server.tlsListen); }},
		{keys::SERVER_HTTPS_LISTEN.section, keys::SERVER_HTTPS_LISTEN.name, "",
		 [](C& c, K k, K v) { c.server.httpsListen = toListen(k, v, 443, true); },
		 [](const C& c) { return listenText(c.server.httpsListen); }},
		string(keys::SERVER_TLS_CERT_FILE.section, keys::SERVER_TLS_CERT_FILE.name, "", &C::server,
			   &ServerConfig::tlsCertFile),
		string(keys::SERVER_TLS_KEY_FILE.section, keys::SERVER_TLS_KEY_FILE.name, "", &C::server,
			   &ServerConfig::tlsKeyFile),
		{"server", "doh_path", "/dns-query", [](C& c, K k, K v) { c.server.dohPath = toDohPath(k, v); },
		 [](const C& c) { return c.server.dohPath; }},
		number("server", "tls_handshake_timeout_ms", "5000", &C::server, &ServerConfig::tlsHandshakeTimeoutMs, 100,
			   MAX_MS),
		number("server", "tls_handshakes_per_source", "100", &C::server, &ServerConfig::tlsHandshakesPerSource, 0,
			   1000000),
		restartOnly(ConfigKey{keys::SERVER_USER.section, keys::SERVER_USER.name, "",
							  [](C& c, K k, K v) {
								  if (!v.empty() && !Privileges::lookup(v))
									  fail(k, "no user " + quoted(v) + " on this system");
								  c.server.user = v;
							  },
							  [](const C& c) { return c.server.user; }}),

		{"upstream", "servers", "1.1.1.1:853#cloudflare-dns.com, 1.0.0.1:853#cloudflare-dns.com",
		 [](C& c, K k, K v) { c.upstream.servers = toServers(k, v); },
		 [](const C& c) {
			 return listOf(c.upstream.servers, [](const UpstreamServerConfig& s) {
				 return s.endpoint() + (s.authName.empty() ? "" : "#" + s.authName);
			 });
		 }},
		choice("upstream", "strategy", "failover", &C::upstream, &UpstreamConfig::strategy, STRATEGIES),
		number("upstream", "timeout_ms", "2000", &C::upstream, &UpstreamConfig::timeoutMs, 1, 600000),
		number("upstream", "connections", "1", &C::upstream, &UpstreamConfig::connections, 1, 64),
		number("upstream", "max_inflight", "100", &C::upstream, &UpstreamConfig::maxInflight, 1, 65535),
		number("upstream", "idle_timeout_ms", "30000", &C::upstream, &UpstreamConfig::idleTimeoutMs, 1, MAX_MS),
		flag("upstream", "keepalive", "true", &C::upstream, &UpstreamConfig::keepalive),
		flag("upstream", "padding", "true", &C::upstream, &UpstreamConfig::padding),

		choice("tls", "profile", "strict", &C::tls, &TlsConfig::profile, PROFILES),
		string(keys::TLS_CA_FILE.section, keys::TLS_CA_FILE.name, "/etc/ssl/certs/ca-certificates.crt", &C::tls,
			   &TlsConfig::caFile),
		{"tls", "pins", "", [](C& c, K k, K v) { c.tls.pins = toPins(k, v); },
		 [](const C& c) {
			 return listOf(c.tls.pins, [](const PinConfig& p) { return p.name + ":" + p.sha256Base64; });
		 }},
		choice(TLS_PIN_POLICY.section, TLS_PIN_POLICY.name, "learn", &C::tls, &TlsConfig::pinPolicy, PIN_POLICIES),
		flag("tls", "session_resumption", "true", &C::tls, &TlsConfig::sessionResumption),
		choice("tls", "min_version", "1.2", &C::tls, &TlsConfig::minVersion, TLS_VERSIONS),

		restartOnly(flag("cache", "enabled", "true", &C::cache, &CacheConfig::enabled)),
		restartOnly(number("cache", "max_entries", "100000", &C::cache, &CacheConfig::maxEntries, 1, 100000000)),
		number("cache", "min_ttl", "0", &C::cache, &CacheConfig::minTtl, 0, MAX_SECONDS),
		number("cache", "max_ttl", "86400", &C::cache, &CacheConfig::maxTtl, 0, MAX_SECONDS),
		number("cache", "negative_ttl", "900", &C::cache, &CacheConfig::negativeTtl, 0, MAX_SECONDS),
		restartOnly(flag("cache", "serve_stale", "true", &C::cache, &CacheConfig::serveStale)),
		restartOnly(number("cache", "stale_answer_ttl", "30", &C::cache, &CacheConfig::staleAnswerTtl, 0, MAX_SECONDS)),
		restartOnly(number("cache", "max_stale", "86400", &C::cache, &CacheConfig::maxStale, 0, MAX_SECONDS)),
		restartOnly(flag("cache", "prefetch", "true", &C::cache, &CacheConfig::prefetch)),

		restartOnly(string(keys::STORAGE_PATH.section, keys::STORAGE_PATH.name, "/var/lib/dnsproxy/dnsproxy.db",
						   &C::storage, &StorageConfig::path)),
		restartOnly(
			number("storage", "flush_interval_ms", "5000", &C::storage, &StorageConfig::flushIntervalMs, 100, MAX_MS)),

		restartOnly(ConfigKey{keys::FLEET_REDIS.section, keys::FLEET_REDIS.name, "",
							  [](C& c, K, K v) { c.fleet.redis = v; },
							  [](const C& c) { return redactRedis(c.fleet.redis); }}),
		restartOnly(string("fleet", "key_prefix", "dnsproxy:", &C::fleet, &FleetConfig::keyPrefix)),
		restartOnly(number("fleet", "timeout_ms", "50", &C::fleet, &FleetConfig::timeoutMs, 1, 60000)),
		restartOnly(string(keys::FLEET_CA_FILE.section, keys::FLEET_CA_FILE.name, "", &C::fleet, &FleetConfig::caFile)),
		restartOnly(
			ConfigKey{"fleet", "secret", "", [](C& c, K k, K v) { c.fleet.secret = toSecret(k, v); },
					  // The secret itself never leaves the process.
					  [](const C& c) { return std::string(c.fleet.secret.empty() ? "" : ConfigLoader::TOKEN_SET); }}),

		string(keys::ADMIN_LISTEN.section, keys::ADMIN_LISTEN.name, "127.0.0.1:8053", &C::admin, &AdminConfig::listen),
		{keys::ADMIN_TOKEN.section, keys::ADMIN_TOKEN.name, "", [](C& c, K, K v) { c.admin.token = v; },
		 // The secret itself never leaves the process.
		 [](const C& c) { return std::string(c.admin.token.empty() ? "" : ConfigLoader::TOKEN_SET); }},

		choice("log", "level", "information", &C::log, &LogConfig::level, LOG_LEVELS),
		flag("log", "queries", "false", &C::log, &LogConfig::queries),
	};
}

} // namespace

const KeyName keys::SERVER_ALLOW{"server", "allow"};
const KeyName keys::SERVER_LISTEN{"server", "listen"};
const KeyName keys::SERVER_USER{"server", "user"};
const KeyName keys::SERVER_TLS_LISTEN{"server", "tls_listen"};
const KeyName keys::SERVER_HTTPS_LISTEN{"server", "https_listen"};
const KeyName keys::SERVER_TLS_CERT_FILE{"server", "tls_cert_file"};
const KeyName keys::SERVER_TLS_KEY_FILE{"server", "tls_key_file"};
const KeyName keys::TLS_CA_FILE{"tls", "ca_file"};
const KeyName keys::STORAGE_PATH{"storage", "path"};
const KeyName keys::FLEET_REDIS{"fleet", "redis"};
const KeyName keys::FLEET_CA_FILE{"fleet", "ca_file"};
const KeyName keys::ADMIN_LISTEN{"admin", "listen"};
const KeyName keys::ADMIN_TOKEN{"admin", "token"};

std::string pinPolicySetting(PinPolicy policy)
{
	return std::string(TLS_PIN_POLICY.name) + " = " + choiceName(policy, PIN_POLICIES);
}

const std::vector<ConfigKey>& configKeys()
{
	static const std::vector<ConfigKey> table = makeTable();
	return table;
}

/// The encrypted listeners: a certificate and its key come together, and no address serves two protocols.
static void checkListeners(const ServerConfig& server)
{
	if (server.tlsCertFile.empty() != server.tlsKeyFile.empty())
		fail(server.tlsCertFile.empty() ? keys::SERVER_TLS_CERT_FILE.dotted() : keys::SERVER_TLS_KEY_FILE.dotted(),
			 "must be given together with " +
				 (server.tlsCertFile.empty() ? keys::SERVER_TLS_KEY_FILE : keys::SERVER_TLS_CERT_FILE).dotted() +
				 " (both empty = a self-signed certificate)");
	if (!server.tlsCertFile.empty())
	{
		checkReadable(keys::SERVER_TLS_CERT_FILE.dotted(), server.tlsCertFile);
		checkReadable(keys::SERVER_TLS_KEY_FILE.dotted(), server.tlsKeyFile);
	}
	std::set<std::string> stream; // TCP ports: plain DNS, DoT and DoH must not share one
	if (server.tcp)
		for (const auto& a : server.listen)
			stream.insert(a.toString());
	for (const auto* list : {&server.tlsListen, &server.httpsListen})
		for (const auto& a : *list)
			if (!stream.insert(a.toString()).second)
				fail(list == &server.tlsListen ? keys::SERVER_TLS_LISTEN.dotted() : keys::SERVER_HTTPS_LISTEN.dotted(),
					 a.toString() + " is already a TCP listener of another protocol");
}

void checkConfig(Config& config)
{
	if (config.cache.minTtl > config.cache.maxTtl)
		fail("cache.min_ttl", "must not exceed cache.max_ttl (" + std::to_string(config.cache.minTtl) + " > " +
								  std::to_string(config.cache.maxTtl) + ")");
	if (config.storage.path.empty())
		fail(keys::STORAGE_PATH.dotted(), "must not be empty");
	if (!config.fleet.redis.empty())
		checkRedis(keys::FLEET_REDIS.dotted(), config.fleet.redis);
	if (!config.fleet.caFile.empty())
		checkReadable(keys::FLEET_CA_FILE.dotted(), config.fleet.caFile);
	AdminConfig& admin = config.admin;
	if (!admin.listen.empty())
	{
		const auto address = ConfigLoader::parseHostPort(admin.listen, 8053);
		if (!address)
			fail(keys::ADMIN_LISTEN.dotted(),
				 "expected a numeric IP[:port] (IPv6 as [::1]:8053) or nothing, got " + quoted(admin.listen));
		admin.listen = address->toString();
		for (const auto& listen : config.server.listen)
			if (config.server.tcp && listen.toString() == admin.listen)
				fail(keys::ADMIN_LISTEN.dotted(),
					 admin.listen + " is also a " + keys::SERVER_LISTEN.dotted() + " address");
	}
	checkReadable(keys::TLS_CA_FILE.dotted(), config.tls.caFile);
	checkListeners(config.server);
}

} // namespace dnsproxy::app
