// ConfigPrinter.cpp - the effective configuration as INI text (--check-config).
#include "app/ConfigLoader.h"
#include "app/ConfigText.h"

#include <sstream>

namespace dnsproxy::app
{

using namespace text;

std::string ConfigLoader::toIni(const Config& config)
{
	const auto boolText = [](bool b) { return b ? "true" : "false"; };
	std::vector<std::string> listen;
	for (const auto& address : config.server.listen)
		listen.push_back(address.toString());
	std::vector<std::string> protocols;
	if (config.server.udp)
		protocols.push_back("udp");
	if (config.server.tcp)
		protocols.push_back("tcp");
	std::vector<std::string> allow;
	for (const auto& cidr : config.server.allow)
		allow.push_back(cidr.text);
	std::vector<std::string> servers;
	for (const auto& server : config.upstream.servers)
		servers.push_back(server.endpoint() + (server.authName.empty() ? "" : "#" + server.authName));
	std::vector<std::string> pins;
	for (const auto& pin : config.tls.pins)
		pins.push_back(pin.name + ":" + pin.sha256Base64);

	std::ostringstream out;
	out << "; effective dnsproxy configuration\n"
		<< "\n[server]\n"
		<< "listen = " << join(listen) << "\n"
		<< "protocols = " << join(protocols) << "\n"
		<< "allow = " << join(allow) << "\n"
		<< "tcp_idle_timeout_ms = " << config.server.tcpIdleTimeoutMs << "\n"
		<< "max_tcp_connections = " << config.server.maxTcpConnections << "\n"
		<< "max_pending = " << config.server.maxPending << "\n"
		<< "udp_payload_size = " << config.server.udpPayloadSize << "\n"
		<< "threads = " << config.server.threads << "\n"
		<< "udp_batch_wait_us = " << config.server.udpBatchWaitUs << "\n"
		<< "user = " << config.server.user << "\n"
		<< "\n[upstream]\n"
		<< "servers = " << join(servers) << "\n"
		<< "strategy = " << choiceName(config.upstream.strategy, STRATEGIES) << "\n"
		<< "timeout_ms = " << config.upstream.timeoutMs << "\n"
		<< "connections = " << config.upstream.connections << "\n"
		<< "max_inflight = " << config.upstream.maxInflight << "\n"
		<< "idle_timeout_ms = " << config.upstream.idleTimeoutMs << "\n"
		<< "keepalive = " << boolText(config.upstream.keepalive) << "\n"
		<< "padding = " << boolText(config.upstream.padding) << "\n"
		<< "\n[tls]\n"
		<< "profile = " << choiceName(config.tls.profile, PROFILES) << "\n"
		<< "ca_file = " << config.tls.caFile << "\n"
		<< "pins = " << join(pins) << "\n"
		<< "pin_policy = " << choiceName(config.tls.pinPolicy, PIN_POLICIES) << "\n"
		<< "session_resumption = " << boolText(config.tls.sessionResumption) << "\n"
		<< "min_version = " << config.tls.minVersion << "\n"
		<< "\n[cache]\n"
		<< "enabled = " << boolText(config.cache.enabled) << "\n"
		<< "max_entries = " << config.cache.maxEntries << "\n"
		<< "min_ttl = " << config.cache.minTtl << "\n"
		<< "max_ttl = " << config.cache.maxTtl << "\n"
		<< "negative_ttl = " << config.cache.negativeTtl << "\n"
		<< "serve_stale = " << boolText(config.cache.serveStale) << "\n"
		<< "stale_answer_ttl = " << config.cache.staleAnswerTtl << "\n"
		<< "max_stale = " << config.cache.maxStale << "\n"
		<< "prefetch = " << boolText(config.cache.prefetch) << "\n"
		<< "\n[storage]\n"
		<< "path = " << config.storage.path << "\n"
		<< "flush_interval_ms = " << config.storage.flushIntervalMs << "\n"
		<< "\n[fleet]\n"
		<< "redis = " << config.fleet.redis << "\n"
		<< "key_prefix = " << config.fleet.keyPrefix << "\n"
		<< "timeout_ms = " << config.fleet.timeoutMs << "\n"
		<< "\n[admin]\n"
		<< "listen = " << config.admin.listen << "\n"
		<< "token = " << (config.admin.token.empty() ? "" : TOKEN_SET) << "\n"
		<< "\n[log]\n"
		<< "level = " << config.log.level << "\n"
		<< "queries = " << boolText(config.log.queries) << "\n";
	return out.str();
}

} // namespace dnsproxy::app
