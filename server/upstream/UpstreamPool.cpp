// UpstreamPool.cpp - server selection and failover across DoT connections.
#include "upstream/UpstreamPool.h"

#include <algorithm>

namespace dnsproxy::upstream
{

struct UpstreamPool::Attempt
{
	std::vector<uint8_t> query;
	Callback done;
	std::vector<size_t> order;
	size_t next = 0;
	UpstreamResult::Status lastStatus = UpstreamResult::Status::FAILED;
};

UpstreamPool::UpstreamPool(const PoolSettings& settings, Poco::Net::Context::Ptr context):
	_settings(settings)
{
	for (const auto& endpoint : _settings.servers)
	{
		auto server = std::make_unique<Server>();
		server->endpoint = endpoint;
		for (uint32_t i = 0; i < std::max<uint32_t>(1, _settings.connectionsPerServer); ++i)
			server->connections.push_back(
				std::make_unique<DotConnection>(endpoint, context, _settings.connection, server->stats));
		_servers.push_back(std::move(server));
	}
}

UpstreamPool::~UpstreamPool()
{
	stop();
}

void UpstreamPool::stop()
{
	for (auto& server : _servers)
		for (auto& connection : server->connections)
			connection->stop();
}

bool UpstreamPool::healthy() const
{
	for (const auto& server : _servers)
		for (const auto& connection : server->connections)
			if (!connection->backingOff())
				return true;
	return false;
}

std::vector<size_t> UpstreamPool::order()
{
	std::vector<size_t> result(_servers.size());
	for (size_t i = 0; i < result.size(); ++i)
		result[i] = i;
	if (_settings.strategy == SelectionStrategy::ROUND_ROBIN && !result.empty())
	{
		size_t start = _roundRobin.fetch_add(1, std::memory_order_relaxed) % result.size();
		std::rotate(result.begin(), result.begin() + static_cast<std::ptrdiff_t>(start), result.end());
	}
	// Servers that are backing off after connect failures are tried last, in the same relative order.
	std::stable_partition(result.begin(), result.end(), [this](size_t i) {
		const auto& connections = _servers[i]->connections;
		return std::any_of(connections.begin(), connections.end(), [](const auto& c) { return !c->backingOff(); });
	});
	return result;
}

DotConnection& UpstreamPool::pickConnection(Server& server)
{
	DotConnection* best = server.connections.front().get();
	for (auto& connection : server.connections)
	{
		if (connection->load() < best->load())
			best = connection.get();
	}
	return *best;
}

void UpstreamPool::resolve(std::vector<uint8_t>&& query, Callback done)
{
	auto attempt = std::make_shared<Attempt>();
	attempt->query = std::move(query);
	attempt->done = std::move(done);
	attempt->order = order();
	tryNext(std::move(attempt));
}

void UpstreamPool::tryNext(std::shared_ptr<Attempt> attempt)
{
	if (attempt->next >= attempt->order.size())
	{
		Callback done = std::move(attempt->done);
		done(UpstreamResult{attempt->lastStatus, {}});
		return;
	}
	Server& server = *_servers[attempt->order[attempt->next++]];
	std::vector<uint8_t> query = attempt->next < attempt->order.size() ? attempt->query : std::move(attempt->query);
	pickConnection(server).submit(std::move(query), [this, attempt](UpstreamResult&& result) {
		if (result.status == UpstreamResult::Status::OK)
		{
			Callback done = std::move(attempt->done);
			done(std::move(result));
			return;
		}
		attempt->lastStatus = result.status;
		tryNext(attempt);
	});
}

} // namespace dnsproxy::upstream
