// UpstreamPool.h - the upstream servers, their persistent connections and the choice between them.
#pragma once

#include "stats/Stats.h"
#include "upstream/DotConnection.h"
#include "upstream/UpstreamClient.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Net/Context.h>

#include <atomic>
#include <memory>
#include <vector>

namespace dnsproxy::upstream
{

/// Implements UpstreamClient over `connectionsPerServer` DotConnections per server.
///
/// Each query is tried on one server; when that attempt times out or fails, the next server in the
/// strategy's order is tried, so the client waits at most `timeoutMs` times the servers tried.
/// Servers whose connections are backing off after connect failures go to the end of the order.
///
/// Threading: resolve() from any thread; the retry to the next server happens in the callback of
/// the previous attempt, on that connection's I/O thread.
class UpstreamPool: public UpstreamClient
{
public:
	struct Server
	{
		ServerEndpoint endpoint;
		stats::UpstreamStats stats;
		std::vector<std::unique_ptr<DotConnection>> connections;
	};

	UpstreamPool(const PoolSettings& settings, Poco::Net::Context::Ptr context);
	~UpstreamPool() override;

	void resolve(std::vector<uint8_t>&& query, Callback done) override;
	bool healthy() const override;

	/// Fails everything pending and stops every connection thread.
	void stop();

	const std::vector<std::unique_ptr<Server>>& servers() const
	{
		return _servers;
	}

private:
	struct Attempt;
	void tryNext(std::shared_ptr<Attempt> attempt);
	std::vector<size_t> order();
	DotConnection& pickConnection(Server& server);

	PoolSettings _settings;
	std::vector<std::unique_ptr<Server>> _servers;
	std::atomic<uint64_t> _roundRobin{0};
};

} // namespace dnsproxy::upstream
