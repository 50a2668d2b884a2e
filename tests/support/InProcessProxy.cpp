// InProcessProxy.cpp - wiring of the real proxy chain for integration tests.
#include "support/InProcessProxy.h"

#include "upstream/TlsContextFactory.h"

#include <Poco/Net/SSLManager.h>

namespace dnsproxy::test
{

frontend::ClientAcl::Network InProcessProxy::ipv4Network(uint8_t a, uint8_t b, uint8_t c, uint8_t d, unsigned bits)
{
	frontend::ClientAcl::Network network;
	network.ipv6 = false;
	network.prefix[0] = a;
	network.prefix[1] = b;
	network.prefix[2] = c;
	network.prefix[3] = d;
	network.bits = bits;
	return network;
}

InProcessProxy::InProcessProxy(const InProcessProxyOptions& options)
{
	Poco::Net::initializeSSL();
	auto allow = options.allow;
	if (allow.empty())
		allow.push_back(ipv4Network(127, 0, 0, 0, 8));
	_acl = frontend::ClientAcl(allow);

	upstream::TlsSettings tls;
	tls.caFile = options.caFile.empty() ? std::string(DNSPROXY_TEST_DATA) + "/certs/ca.pem" : options.caFile;
	tls.verify = true;
	tls.minVersion = options.minTlsVersion;
	upstream::PoolSettings pool;
	pool.servers.push_back(upstream::ServerEndpoint{options.upstream, options.authName});
	pool.connectionsPerServer = 1;
	pool.connection.timeoutMs = options.timeoutMs;
	_pool = std::make_unique<upstream::UpstreamPool>(pool, upstream::TlsContextFactory::createClientContext(tls));

	_pipeline = std::make_unique<pipeline::QueryPipeline>(pipeline::PipelineSettings{}, _acl, *_pool, _frontendStats);

	frontend::FrontendSettings front;
	front.listen.push_back(Poco::Net::SocketAddress("127.0.0.1", 0));
	front.threads = 1;
	_frontend = std::make_unique<frontend::Frontend>(front, *_pipeline, _frontendStats);
	_frontend->start();
	_udpAddress = _frontend->boundUdpAddresses().at(0);
	_tcpAddress = _frontend->boundTcpAddresses().at(0);
}

InProcessProxy::~InProcessProxy()
{
	// Front end first (no new queries), then the upstreams (every query in flight completes, its
	// answer posted to a loop that is stopped but still alive), then free in reverse order of use.
	_frontend->stop();
	_pool->stop();
	_frontend.reset();
	_pipeline.reset();
	_pool.reset();
	Poco::Net::uninitializeSSL();
}

} // namespace dnsproxy::test
