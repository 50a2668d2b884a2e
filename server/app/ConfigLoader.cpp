// ConfigLoader.cpp - INI parsing, validation and printing of the dnsproxy configuration (SPEC section 3).
#include "app/ConfigLoader.h"

#include "app/ConfigText.h"
#include "app/Privileges.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

namespace dnsproxy::app
{

namespace
{

using namespace text;

/// Every section and key of SPEC section 3, in the SPEC's order (toIni prints in this order too), plus our
/// own additions at the end of their section (README, Configuration).
const std::vector<std::pair<std::string, std::vector<std::string>>>& knownKeys()
{
	static const std::vector<std::pair<std::string, std::vector<std::string>>> keys{
		{"server",
		 {"listen", "protocols", "allow", "tcp_idle_timeout_ms", "max_tcp_connections", "max_pending",
		  "udp_payload_size", "threads", "udp_batch_wait_us", "user"}},
		{"upstream",
		 {"servers", "strategy", "timeout_ms", "connections", "max_inflight", "idle_timeout_ms", "keepalive",
		  "padding"}},
		{"tls", {"profile", "ca_file", "pins", "pin_policy", "session_resumption", "min_version"}},
		{"cache",
		 {"enabled", "max_entries", "min_ttl", "max_ttl", "negative_ttl", "serve_stale", "stale_answer_ttl",
		  "max_stale", "prefetch"}},
		{"storage", {"path", "flush_interval_ms"}},
		{"fleet", {"redis", "key_prefix", "timeout_ms"}},
		{"admin", {"listen", "token"}},
		{"log", {"level", "queries"}},
	};
	return keys;
}

const char* const DEFAULT_ALLOW = "127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7";
const unsigned MAX_SECONDS = 2147483647; // RFC 2181 section 8: TTLs are 31-bit
const unsigned MAX_MS = 86400000;        // one day; longer timeouts are surely a typo
const size_t PIN_LENGTH = 32;            // SHA-256 (RFC 7858 section 4.2)
// A spoofed query with a large EDNS size must not buy an answer of up to 64 KiB for its victim: 4096 is
// the largest EDNS size RFC 6891 section 6.2.5 discusses, and unbound's max-udp-size default.
const unsigned MIN_UDP_PAYLOAD = 512;
const unsigned MAX_UDP_PAYLOAD = 4096;

/// Lower-case "section.key" -> raw value.
using Values = std::map<std::string, std::string>;

bool knownSection(const std::string& section)
{
	for (const auto& entry : knownKeys())
		if (entry.first == section)
			return true;
	return false;
}

bool knownKey(const std::string& fullKey)
{
	const auto dot = fullKey.find('.');
	if (dot == std::string::npos)
		return false;
	for (const auto& entry : knownKeys())
	{
		if (entry.first != fullKey.substr(0, dot))
			continue;
		for (const auto& key : entry.second)
			if (key == fullKey.substr(dot + 1))
				return true;
	}
	return false;
}

[[noreturn]] void fail(const std::string& where, const std::string& reason)
{
	throw ConfigError(where + ": " + reason);
}

/// Checks the line structure POCO would silently accept (a line without '=', "[server" without ']', keys before
/// any section, unknown sections) and drops '#' comment lines, which POCO 1.11 would read as keys.
std::string checkStructure(const std::string& text, const std::string& source)
{
	std::istringstream in(text);
	std::string out;
	std::string line;
	bool inSection = false;
	for (unsigned number = 1; std::getline(in, line); ++number)
	{
		const std::string where = source + ": line " + std::to_string(number);
		const std::string t = trim(line);
		if (t.empty() || t[0] == ';' || t[0] == '#')
		{
			out += "\n";
			continue;
		}
		if (t[0] == '[')
		{
			const auto close = t.find(']');
			if (close == std::string::npos)
				fail(where, "missing ']' in " + quoted(t));
			const std::string rest = trim(t.substr(close + 1));
			if (!rest.empty() && rest[0] != ';' && rest[0] != '#')
				fail(where, "unexpected " + quoted(rest) + " after the section name");
			const std::string name = lower(trim(t.substr(1, close - 1)));
			if (name.empty())
				fail(where, "empty section name");
			if (!knownSection(name))
				fail(name, "unknown section");
			inSection = true;
			out += "[" + name + "]\n";
			continue;
		}
		const auto eq = t.find('=');
		if (eq == std::string::npos)
			fail(where, "expected 'key = value' or '[section]', got " + quoted(t));
		const std::string key = lower(trim(t.substr(0, eq)));
		if (key.empty())
			fail(where, "missing key before '='");
		if (!inSection)
			fail(key, "unknown key (every key belongs in a [section])");
		out += t + "\n";
	}
	return out;
}

void collectKeys(const Poco::Util::AbstractConfiguration& ini, const std::string& prefix, Values& values)
{
	Poco::Util::AbstractConfiguration::Keys keys;
	ini.keys(prefix, keys);
	for (const auto& key : keys)
	{
		const std::string full = prefix.empty() ? key : prefix + "." + key;
		if (ini.hasProperty(full))
			values[lower(full)] = stripInlineComment(ini.getRawString(full));
		collectKeys(ini, full, values);
	}
}

Values readIni(const std::string& text, const std::string& source)
{
	std::istringstream cleaned(checkStructure(text, source));
	Values values;
	try
	{
		Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini(new Poco::Util::IniFileConfiguration(cleaned));
		collectKeys(*ini, "", values);
	}
	catch (const Poco::Exception& e)
	{
		fail(source, "cannot parse: " + e.displayText());
	}
	for (const auto& entry : values)
		if (!knownKey(entry.first))
			fail(entry.first, "unknown key");
	return values;
}

uint32_t toUInt(const std::string& key, const std::string& value, uint32_t min, uint32_t max)
{
	const auto n = parseNumber(value, max);
	if (!n || *n < min)
		fail(key, "expected an integer between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
					  quoted(value));
	return static_cast<uint32_t>(*n);
}

bool toBool(const std::string& key, const std::string& value)
{
	const std::string v = lower(value);
	if (v == "true" || v == "yes" || v == "on" || v == "1")
		return true;
	if (v == "false" || v == "no" || v == "off" || v == "0")
		return false;
	fail(key, "expected true, false, yes, no, on, off, 1 or 0, got " + quoted(value));
}

template <typename T>
T toChoice(const std::string& key, const std::string& value, const std::vector<std::pair<std::string, T>>& choices)
{
	std::string names;
	for (const auto& choice : choices)
	{
		if (lower(value) == choice.first)
			return choice.second;
		names += (names.empty() ? "" : " | ") + choice.first;
	}
	fail(key, "expected " + names + ", got " + quoted(value));
}

std::vector<ListenAddress> toListen(const std::string& key, const std::string& value)
{
	std::vector<ListenAddress> addresses;
	std::set<std::string> seen;
	for (const auto& item : splitList(value))
	{
		const auto address = ConfigLoader::parseHostPort(item, 53);
		if (!address)
			fail(key, "expected a numeric IP[:port] (IPv6 as [::1]:53), got " + quoted(item));
		if (!seen.insert(address->toString()).second)
			fail(key, address->toString() + " is listed twice");
		addresses.push_back(*address);
	}
	if (addresses.empty())
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
		if (protocol == "udp")
			server.udp = true;
		else if (protocol == "tcp")
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

/// redis://host:port[/db], host a name, an IPv4 address or a bracketed IPv6 address.
void checkRedis(const std::string& key, const std::string& value)
{
	const std::string scheme = "redis://";
	const std::string expected = "expected redis://host:port[/db] or nothing, got " + quoted(value);
	if (lower(value.substr(0, scheme.size())) != scheme)
		fail(key, expected);
	std::string rest = value.substr(scheme.size());
	const auto slash = rest.find('/');
	if (slash != std::string::npos)
	{
		if (!parseNumber(rest.substr(slash + 1), 1000000))
			fail(key, expected);
		rest = rest.substr(0, slash);
	}
	const auto colon = rest.rfind(':');
	if (colon == std::string::npos || colon == 0)
		fail(key, expected);
	const std::string host = rest.substr(0, colon);
	const auto port = parseNumber(rest.substr(colon + 1), 65535);
	if (!port || *port == 0)
		fail(key, expected);
	if (host.front() == '[')
	{
		in6_addr address{};
		if (host.back() != ']' || inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &address) != 1)
			fail(key, expected);
	}
	else if (!isHostName(host))
		fail(key, expected);
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

Config build(const Values& values)
{
	Config config;
	config.server.allow = toAllow("server.allow", DEFAULT_ALLOW);

	// Each present key in SPEC order; an absent key keeps its default from Config.h.
	const auto with = [&values](const std::string& key, const auto& apply) {
		const auto it = values.find(key);
		if (it != values.end())
			apply(key, it->second);
	};
	const auto uint = [&with](const std::string& key, auto& field, uint32_t min, uint32_t max) {
		with(key, [&](const std::string& k, const std::string& v) {
			field = static_cast<std::remove_reference_t<decltype(field)>>(toUInt(k, v, min, max));
		});
	};
	const auto boolean = [&with](const std::string& key, bool& field) {
		with(key, [&](const std::string& k, const std::string& v) { field = toBool(k, v); });
	};
	const auto text = [&with](const std::string& key, std::string& field) {
		with(key, [&](const std::string&, const std::string& v) { field = v; });
	};

	ServerConfig& server = config.server;
	with("server.listen", [&](const std::string& k, const std::string& v) { server.listen = toListen(k, v); });
	with("server.protocols", [&](const std::string& k, const std::string& v) { toProtocols(k, v, server); });
	with("server.allow", [&](const std::string& k, const std::string& v) { server.allow = toAllow(k, v); });
	uint("server.tcp_idle_timeout_ms", server.tcpIdleTimeoutMs, 1, MAX_MS);
	uint("server.max_tcp_connections", server.maxTcpConnections, 1, 1000000);
	uint("server.max_pending", server.maxPending, 1, 10000000);
	uint("server.udp_payload_size", server.udpPayloadSize, MIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD);
	uint("server.threads", server.threads, 0, 256);
	uint("server.udp_batch_wait_us", server.udpBatchWaitUs, 0, 10000);
	with("server.user", [&](const std::string& k, const std::string& v) {
		if (!v.empty() && !Privileges::lookup(v))
			fail(k, "no user " + quoted(v) + " on this system");
		server.user = v;
	});

	UpstreamConfig& upstream = config.upstream;
	with("upstream.servers", [&](const std::string& k, const std::string& v) { upstream.servers = toServers(k, v); });
	with("upstream.strategy",
		 [&](const std::string& k, const std::string& v) { upstream.strategy = toChoice(k, v, STRATEGIES); });
	uint("upstream.timeout_ms", upstream.timeoutMs, 1, 600000);
	uint("upstream.connections", upstream.connections, 1, 64);
	uint("upstream.max_inflight", upstream.maxInflight, 1, 65535);
	uint("upstream.idle_timeout_ms", upstream.idleTimeoutMs, 1, MAX_MS);
	boolean("upstream.keepalive", upstream.keepalive);
	boolean("upstream.padding", upstream.padding);

	TlsConfig& tls = config.tls;
	with("tls.profile", [&](const std::string& k, const std::string& v) { tls.profile = toChoice(k, v, PROFILES); });
	text("tls.ca_file", tls.caFile);
	with("tls.pins", [&](const std::string& k, const std::string& v) { tls.pins = toPins(k, v); });
	with("tls.pin_policy",
		 [&](const std::string& k, const std::string& v) { tls.pinPolicy = toChoice(k, v, PIN_POLICIES); });
	boolean("tls.session_resumption", tls.sessionResumption);
	with("tls.min_version",
		 [&](const std::string& k, const std::string& v) { tls.minVersion = toChoice(k, v, TLS_VERSIONS); });

	CacheConfig& cache = config.cache;
	boolean("cache.enabled", cache.enabled);
	uint("cache.max_entries", cache.maxEntries, 1, 100000000);
	uint("cache.min_ttl", cache.minTtl, 0, MAX_SECONDS);
	uint("cache.max_ttl", cache.maxTtl, 0, MAX_SECONDS);
	uint("cache.negative_ttl", cache.negativeTtl, 0, MAX_SECONDS);
	boolean("cache.serve_stale", cache.serveStale);
	uint("cache.stale_answer_ttl", cache.staleAnswerTtl, 0, MAX_SECONDS);
	uint("cache.max_stale", cache.maxStale, 0, MAX_SECONDS);
	boolean("cache.prefetch", cache.prefetch);

	StorageConfig& storage = config.storage;
	text("storage.path", storage.path);
	uint("storage.flush_interval_ms", storage.flushIntervalMs, 100, MAX_MS);

	FleetConfig& fleet = config.fleet;
	text("fleet.redis", fleet.redis);
	text("fleet.key_prefix", fleet.keyPrefix);
	uint("fleet.timeout_ms", fleet.timeoutMs, 1, 60000);

	AdminConfig& admin = config.admin;
	text("admin.listen", admin.listen);
	text("admin.token", admin.token);

	LogConfig& log = config.log;
	with("log.level", [&](const std::string& k, const std::string& v) { log.level = toChoice(k, v, LOG_LEVELS); });
	boolean("log.queries", log.queries);

	// Checks that involve more than one key, or a default value that may not hold on this machine.
	if (cache.minTtl > cache.maxTtl)
		fail("cache.min_ttl", "must not exceed cache.max_ttl (" + std::to_string(cache.minTtl) + " > " +
								  std::to_string(cache.maxTtl) + ")");
	if (storage.path.empty())
		fail("storage.path", "must not be empty");
	if (!fleet.redis.empty())
		checkRedis("fleet.redis", fleet.redis);
	if (!admin.listen.empty())
	{
		const auto address = ConfigLoader::parseHostPort(admin.listen, 8053);
		if (!address)
			fail("admin.listen",
				 "expected a numeric IP[:port] (IPv6 as [::1]:8053) or nothing, got " + quoted(admin.listen));
		admin.listen = address->toString();
		for (const auto& listen : server.listen)
			if (server.tcp && listen.toString() == admin.listen)
				fail("admin.listen", admin.listen + " is also a server.listen address");
	}
	checkReadable("tls.ca_file", tls.caFile);
	return config;
}

Config load(const std::string& text, const std::string& source,
			const std::vector<std::pair<std::string, std::string>>& defines)
{
	Values values = readIni(text, source);
	for (const auto& define : defines)
	{
		const std::string key = lower(trim(define.first));
		if (!knownKey(key))
			fail(key, knownSection(key.substr(0, key.find('.'))) ? "unknown key" : "unknown section");
		values[key] = trim(define.second);
	}
	return build(values);
}

} // namespace

Config ConfigLoader::loadFile(const std::string& path, const std::vector<std::pair<std::string, std::string>>& defines)
{
	struct stat st
	{
	};
	if (::stat(path.c_str(), &st) != 0)
		fail(path, std::string("cannot read file: ") + std::strerror(errno));
	if (S_ISDIR(st.st_mode))
		fail(path, std::string("cannot read file: ") + std::strerror(EISDIR));
	std::ifstream in(path, std::ios::binary);
	if (!in)
		fail(path, std::string("cannot read file: ") + std::strerror(errno));
	std::ostringstream text;
	text << in.rdbuf();
	if (in.bad())
		fail(path, "cannot read file");
	return load(text.str(), path, defines);
}

Config ConfigLoader::loadString(const std::string& iniText,
								const std::vector<std::pair<std::string, std::string>>& defines)
{
	return load(iniText, "<string>", defines);
}

std::pair<std::string, std::string> ConfigLoader::parseDefine(const std::string& text)
{
	const auto eq = text.find('=');
	const std::string name = trim(text.substr(0, eq));
	const auto dot = name.find('.');
	if (eq == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 == name.size() ||
		name.find('.', dot + 1) != std::string::npos)
		fail("-D " + text, "expected section.key=value");
	return {lower(name), trim(text.substr(eq + 1))};
}

std::optional<ListenAddress> ConfigLoader::parseHostPort(const std::string& text, uint16_t defaultPort)
{
	const std::string t = trim(text);
	std::string host;
	std::string port;
	bool bracketed = false;
	if (!t.empty() && t[0] == '[')
	{
		const auto close = t.find(']');
		if (close == std::string::npos)
			return std::nullopt;
		host = t.substr(1, close - 1);
		bracketed = true;
		const std::string rest = t.substr(close + 1);
		if (!rest.empty())
		{
			if (rest[0] != ':')
				return std::nullopt;
			port = rest.substr(1);
			if (port.empty())
				return std::nullopt;
		}
	}
	else if (std::count(t.begin(), t.end(), ':') == 1)
	{
		const auto colon = t.find(':');
		host = t.substr(0, colon);
		port = t.substr(colon + 1);
		if (port.empty())
			return std::nullopt;
	}
	else
		host = t; // IPv4 without port, or an unbracketed IPv6 address (which cannot carry a port)

	ListenAddress address;
	address.port = defaultPort;
	if (!port.empty())
	{
		const auto n = parseNumber(port, 65535);
		if (!n || *n == 0)
			return std::nullopt;
		address.port = static_cast<uint16_t>(*n);
	}
	char canonical[INET6_ADDRSTRLEN] = {};
	in_addr v4{};
	in6_addr v6{};
	if (!bracketed && inet_pton(AF_INET, host.c_str(), &v4) == 1)
		inet_ntop(AF_INET, &v4, canonical, sizeof(canonical));
	else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
		inet_ntop(AF_INET6, &v6, canonical, sizeof(canonical));
	else
		return std::nullopt;
	address.host = canonical;
	return address;
}

std::optional<Cidr> ConfigLoader::parseCidr(const std::string& text)
{
	const std::string trimmed = trim(text);
	const auto network = frontend::ClientAcl::parse(trimmed);
	if (!network)
		return std::nullopt;
	return Cidr{trimmed, *network};
}

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
			exposed += (exposed.empty() ? "" : ", ") + std::string("server.listen ") + address.toString();
	if (!config.admin.listen.empty())
	{
		const auto admin = parseHostPort(config.admin.listen, 8053);
		if (admin && !isLoopback(admin->host))
			exposed += (exposed.empty() ? "" : ", ") + std::string("admin.listen ") + admin->toString();
	}
	if (exposed.empty())
		return {};
	std::string publicNets;
	for (const auto& net : config.server.allow)
		if (!isPrivate(net))
			publicNets += (publicNets.empty() ? "" : ", ") + net.text;
	if (publicNets.empty())
		return {};
	return "public networks in server.allow (" + publicNets + ") and listeners beyond loopback (" + exposed +
		   "): anyone who reaches them can use this proxy, and an open resolver is abused for reflection "
		   "attacks; narrow server.allow to your own networks";
}

} // namespace dnsproxy::app
