// RedisUrl.cpp - parsing redis://, rediss:// and redis+sentinel:// URLs.
#include "fleet/RedisUrl.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace dnsproxy::fleet
{

namespace
{

std::optional<uint32_t> number(const std::string& text, uint32_t max)
{
	if (text.empty() || text.size() > 10 ||
		!std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
		return std::nullopt;
	const unsigned long long value = std::stoull(text);
	if (value > max)
		return std::nullopt;
	return static_cast<uint32_t>(value);
}

std::string lower(std::string text)
{
	std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
	return text;
}

/// RFC 3986 2.1 percent-decoding, so a password may hold ':', '@' or '/'.
std::optional<std::string> unescape(const std::string& text)
{
	std::string out;
	for (size_t i = 0; i < text.size(); ++i)
	{
		if (text[i] != '%')
		{
			out += text[i];
			continue;
		}
		if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
			!std::isxdigit(static_cast<unsigned char>(text[i + 2])))
			return std::nullopt;
		out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
		i += 2;
	}
	return out;
}

std::optional<RedisEndpoint> endpoint(const std::string& text)
{
	const auto colon = text.rfind(':');
	if (colon == std::string::npos || colon == 0)
		return std::nullopt;
	auto port = number(text.substr(colon + 1), 65535);
	if (!port || *port == 0)
		return std::nullopt;
	RedisEndpoint result;
	result.port = static_cast<uint16_t>(*port);
	result.host = text.substr(0, colon);
	if (result.host.front() == '[')
	{
		in6_addr address{};
		if (result.host.size() < 3 || result.host.back() != ']')
			return std::nullopt;
		result.host = result.host.substr(1, result.host.size() - 2);
		if (inet_pton(AF_INET6, result.host.c_str(), &address) != 1)
			return std::nullopt;
	}
	else if (result.host.find(':') != std::string::npos)
		return std::nullopt; // an IPv6 address needs its brackets
	return result;
}

bool isMasterName(const std::string& name)
{
	return !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
		return std::isalnum(c) || c == '-' || c == '_' || c == '.';
	});
}

std::optional<RedisUrl::Scheme> schemeNamed(const std::string& scheme)
{
	if (scheme == "redis")
		return RedisUrl::Scheme::PLAIN;
	if (scheme == "rediss")
		return RedisUrl::Scheme::TLS;
	if (scheme == "redis+sentinel")
		return RedisUrl::Scheme::SENTINEL;
	return std::nullopt;
}

/// Takes the userinfo off the front of `rest` into `url`: everything up to the last '@' (a raw
/// '@' in a password is tolerated). False when it is there but unusable.
bool takeUserinfo(std::string& rest, RedisUrl& url)
{
	const auto at = rest.rfind('@');
	if (at == std::string::npos)
		return true;
	const std::string userinfo = rest.substr(0, at);
	rest = rest.substr(at + 1);
	const auto colon = userinfo.find(':');
	auto user = unescape(colon == std::string::npos ? userinfo : userinfo.substr(0, colon));
	auto password = unescape(colon == std::string::npos ? std::string() : userinfo.substr(colon + 1));
	if (!user || !password || password->empty())
		return false; // redis://user@host has no password to send
	url.user = *user;
	url.password = *password;
	return true;
}

/// The master name (taken off the front of `path`) and the comma-separated Sentinels.
bool takeSentinels(const std::string& hosts, std::string& path, RedisUrl& url)
{
	const auto next = path.find('/');
	url.master = path.substr(0, next);
	path = next == std::string::npos ? std::string() : path.substr(next + 1);
	if (!isMasterName(url.master))
		return false;
	size_t start = 0;
	for (;;)
	{
		const auto comma = hosts.find(',', start);
		auto one = endpoint(hosts.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
		if (!one)
			return false;
		url.sentinels.push_back(*one);
		if (comma == std::string::npos)
			return true;
		start = comma + 1;
	}
}

bool takeHost(const std::string& hosts, RedisUrl& url)
{
	auto one = endpoint(hosts);
	if (!one)
		return false;
	url.host = one->host;
	url.port = one->port;
	return true;
}

} // namespace

std::string RedisEndpoint::hostAndPort() const
{
	const bool v6 = host.find(':') != std::string::npos;
	return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<RedisUrl> RedisUrl::parse(const std::string& text)
{
	RedisUrl url;
	const auto separator = text.find("://");
	if (separator == std::string::npos)
		return std::nullopt;
	const auto scheme = schemeNamed(lower(text.substr(0, separator)));
	if (!scheme)
		return std::nullopt;
	url.scheme = *scheme;
	std::string rest = text.substr(separator + 3);
	if (!takeUserinfo(rest, url))
		return std::nullopt;

	std::string hosts = rest;
	std::string path;
	const auto slash = rest.find('/');
	if (slash != std::string::npos)
	{
		hosts = rest.substr(0, slash);
		path = rest.substr(slash + 1);
	}
	if (url.scheme == Scheme::SENTINEL ? !takeSentinels(hosts, path, url) : !takeHost(hosts, url))
		return std::nullopt;
	if (!path.empty() || slash != std::string::npos)
	{
		if (url.scheme == Scheme::SENTINEL && path.empty())
			return url;
		auto db = number(path, 1000000);
		if (!db)
			return std::nullopt;
		url.db = *db;
	}
	return url;
}

std::string RedisUrl::hostAndPort() const
{
	return RedisEndpoint{host, port}.hostAndPort();
}

std::string RedisUrl::describe() const
{
	switch (scheme)
	{
	case Scheme::PLAIN:
		return hostAndPort();
	case Scheme::TLS:
		return "tls " + hostAndPort();
	case Scheme::SENTINEL:
		break;
	}
	std::string list;
	for (const auto& sentinel : sentinels)
		list += (list.empty() ? "" : ",") + sentinel.hostAndPort();
	return "master " + master + " via sentinel " + list;
}

std::vector<std::string> RedisUrl::hosts() const
{
	if (scheme != Scheme::SENTINEL)
		return {host};
	std::vector<std::string> all;
	for (const auto& sentinel : sentinels)
		all.push_back(sentinel.host);
	return all;
}

} // namespace dnsproxy::fleet
