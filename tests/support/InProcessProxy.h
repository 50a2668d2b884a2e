// InProcessProxy.h - the real proxy chain (Frontend -> QueryPipeline -> UpstreamPool) inside a test process.
#pragma once

#include "frontend/ClientAcl.h"
#include "frontend/Frontend.h"
#include "pipeline/QueryPipeline.h"
#include "stats/Stats.h"
#include "upstream/UpstreamPool.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Net/SocketAddress.h>

#include <memory>
#include <string>

namespace dnsproxy::test
{

/// What a test may vary; everything else is the production default.
struct InProcessProxyOptions
{
	Poco::Net::SocketAddress upstream;    ///< the FakeDotServer's address
	std::string authName = "dot.example"; ///< name the upstream certificate must carry
	std::string caFile;                   ///< empty means tests/data/certs/ca.pem
	std::string minTlsVersion = "1.2";
	uint32_t timeoutMs = 2000;
	/// Client networks allowed; empty means 127.0.0.0/8.
	std::vector<frontend::ClientAcl::Network> allow;
};

/// Builds TlsContextFactory's client context, an UpstreamPool with one server and one connection,
/// a QueryPipeline with the ACL, and a Frontend with one worker listening on 127.0.0.1 port 0
/// (UDP and TCP), then starts it. The destructor stops the front end, then the upstreams (which
/// completes everything in flight), then frees them in that order.
class InProcessProxy
{
public:
	explicit InProcessProxy(const InProcessProxyOptions& options);
	~InProcessProxy();
	InProcessProxy(const InProcessProxy&) = delete;
	InProcessProxy& operator=(const InProcessProxy&) = delete;

	Poco::Net::SocketAddress udpAddress() const
	{
		return _udpAddress;
	}
	Poco::Net::SocketAddress tcpAddress() const
	{
		return _tcpAddress;
	}
	/// Counters of the one upstream server.
	const stats::UpstreamStats& upstreamStats() const
	{
		return _pool->servers().front()->stats;
	}
	const stats::FrontendStats& frontendStats() const
	{
		return _frontendStats;
	}

	/// A network for InProcessProxyOptions::allow, e.g. ipv4Network(10, 0, 0, 0, 8).
	static frontend::ClientAcl::Network ipv4Network(uint8_t a, uint8_t b, uint8_t c, uint8_t d, unsigned bits);

private:
	stats::FrontendStats _frontendStats;
	frontend::ClientAcl _acl;
	std::unique_ptr<upstream::UpstreamPool> _pool;
	std::unique_ptr<pipeline::QueryPipeline> _pipeline;
	std::unique_ptr<frontend::Frontend> _frontend;
	Poco::Net::SocketAddress _udpAddress;
	Poco::Net::SocketAddress _tcpAddress;
};

} // namespace dnsproxy::test
