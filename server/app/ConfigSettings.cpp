// ConfigSettings.cpp - the configuration mapped onto each component's own settings struct.
#include "app/ConfigSettings.h"

namespace dnsproxy::app
{

frontend::ClientAcl makeAcl(const std::vector<Cidr>& allow)
{
	std::vector<frontend::ClientAcl::Network> networks;
	for (const auto& cidr : allow)
		networks.push_back(cidr.network);
	return frontend::ClientAcl(std::move(networks));
}

upstream::PoolSettings makePoolSettings(const Config& config)
{
	upstream::PoolSettings settings;
	for (const auto& server : config.upstream.servers)
		settings.servers.push_back({Poco::Net::SocketAddress(server.address, server.port), server.authName});
	settings.strategy = config.upstream.strategy;
	settings.connectionsPerServer = config.upstream.connections;
	settings.keepalive = config.upstream.keepalive;
	settings.padding = config.upstream.padding;
	settings.connection.timeoutMs = config.upstream.timeoutMs;
	settings.connection.maxInflight = config.upstream.maxInflight;
	settings.connection.idleTimeoutMs = config.upstream.idleTimeoutMs;
	settings.connection.sessionResumption = config.tls.sessionResumption;
	settings.connection.opportunistic = config.tls.profile == TlsProfile::OPPORTUNISTIC;
	return settings;
}

} // namespace dnsproxy::app
