// RedisUrl.cpp - parsing redis://host:port[/db].
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

} // namespace

std::optional<RedisUrl> RedisUrl::parse(const std::string& text)
{
	const std::string scheme = "redis://";
	if (text.size() <= scheme.size())
		return std::nullopt;
	std::string head = text.substr(0, scheme.size());
	std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
	if (head != scheme)
		return std::nullopt;
	std::string rest = text.substr(scheme.size());
	RedisUrl url;
	const auto slash = rest.find('/');
	if (slash != std::string::npos)
	{
		auto db = number(rest.substr(slash + 1), 1000000);
		if (!db)
			return std::nullopt;
		url.db = *db;
		rest.resize(slash);
	}
	const auto colon = rest.rfind(':');
	if (colon == std::string::npos || colon == 0)
		return std::nullopt;
	auto port = number(rest.substr(colon + 1), 65535);
	if (!port || *port == 0)
		return std::nullopt;
	url.port = static_cast<uint16_t>(*port);
	url.host = rest.substr(0, colon);
	if (url.host.front() == '[')
	{
		in6_addr address{};
		if (url.host.size() < 3 || url.host.back() != ']')
			return std::nullopt;
		url.host = url.host.substr(1, url.host.size() - 2);
		if (inet_pton(AF_INET6, url.host.c_str(), &address) != 1)
			return std::nullopt;
	}
	else if (url.host.find(':') != std::string::npos)
		return std::nullopt; // an IPv6 address needs its brackets
	return url;
}

std::string RedisUrl::hostAndPort() const
{
	const bool v6 = host.find(':') != std::string::npos;
	return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

} // namespace dnsproxy::fleet
