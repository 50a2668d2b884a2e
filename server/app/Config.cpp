// Config.cpp - text forms of the configuration value types declared in Config.h.
#include "app/Config.h"

namespace dnsproxy::app
{

namespace
{

/// RFC 3986 section 3.2.2: an IPv6 literal is bracketed when a port follows.
std::string hostPort(const std::string& host, uint16_t port)
{
	if (host.find(':') != std::string::npos)
		return "[" + host + "]:" + std::to_string(port);
	return host + ":" + std::to_string(port);
}

} // namespace

std::string ListenAddress::toString() const
{
	return hostPort(host, port);
}

std::string UpstreamServerConfig::endpoint() const
{
	return hostPort(address, port);
}

} // namespace dnsproxy::app
