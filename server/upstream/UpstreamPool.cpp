// UpstreamPool.cpp - failover across DoT connections: selection, probes, coalescing, query preparation.
#include "upstream/UpstreamPool.h"

#include "upstream/UpstreamQuery.h"

#include "dns/Constants.h"
#include "dns/Edns.h"
#include "dns/Header.h"
#include "dns/Message.h"
#include "dns/MessageWriter.h"
#include "dns/Name.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace dnsproxy::upstream
{

namespace
{
/// Knuth's multiplicative hash constant: spreads consecutive query counts over the probe IDs.
constexpr uint64_t PROBE_ID_MULTIPLIER = 2654435761u;
/// The prober thread looks for due probes this often.
constexpr auto PROBE_TICK = std::chrono::milliseconds(250);
} // namespace

struct UpstreamPool::Attempt
{
	std::vector<uint8_t> query;
	SentQuestion sent;
	Callback done;
	std::vector<size_t> order;
	size_t next = 0;
	UpstreamResult::Status lastStatus = UpstreamResult::Status::FAILED;
	bool silentRetried = false; ///< the one extra try after a silent (half-open) stream was used
};

bool UpstreamPool::Server::connectable() const
{
	return std::any_of(connections.begin(), connections.end(), [](const auto& c) { return !c->backingOff(); });
}

bool UpstreamPool::Server::usable() const
{
	return selector->up(index) && connectable();
}

void UpstreamPool::report(Server& server, const UpstreamSelector::Change& change)
{
	auto& logger = Poco::Logger::get("dnsproxy.upstream");
	if (change.cameUp)
		logger.information("upstream %s is up again", server.endpoint.url());
	if (change.markedDownFor.count() > 0)
		logger.warning("upstream %s marked down for %ld ms", server.endpoint.url(),
					   static_cast<long>(change.markedDownFor.count()));
}

void UpstreamPool::probeIfDue(Server& server)
{
	if (!_selector.claimProbe(server.index, _clock()))
		return;
	// ". IN NS" with RD: every resolver answers it, and it says nothing about any client.
	dns::Header header;
	header.id = static_cast<uint16_t>(_selector.ticks() * PROBE_ID_MULTIPLIER);
	header.flags = dns::Header::RD;
	dns::MessageWriter writer;
	writer.setHeader(header);
	const uint8_t root[] = {0};
	writer.addQuestion(root, sizeof(root), dns::Type::NS, dns::Class::IN);
	std::vector<uint8_t> probe = writer.finish();
	dns::MessageInfo info;
	std::optional<std::vector<uint8_t>> prepared;
	if (dns::parseMessage(probe.data(), probe.size(), info) == dns::ParseError::NONE)
		prepared = prepareUpstreamQuery(std::move(probe), info, _settings.keepalive, _settings.padding);
	auto sent = _clock();
	if (!prepared)
	{
		_selector.probeDone(server.index, false, sent, sent);
		return;
	}
	auto done = [this, &server, sent](UpstreamResult&& result) {
		report(server, _selector.probeDone(server.index, result.status == UpstreamResult::Status::OK, sent, _clock()));
	};
	pickConnection(server).submit(std::move(*prepared), SentQuestion::of(info), std::move(done));
}

UpstreamPool::UpstreamPool(const PoolSettings& settings, Poco::Net::Context::Ptr context, PinSource* pins,
						   DotConnection::ClockSource clock):
	_settings(settings),
	_clock(std::move(clock)),
	_selector(settings.strategy, settings.servers.size(), std::chrono::milliseconds(settings.connection.timeoutMs))
{
	for (const auto& endpoint : _settings.servers)
	{
		auto server = std::make_unique<Server>();
		server->endpoint = endpoint;
		server->index = _servers.size();
		server->selector = &_selector;
		for (uint32_t i = 0; i < std::max<uint32_t>(1, _settings.connectionsPerServer); ++i)
			server->connections.push_back(
				std::make_unique<DotConnection>(endpoint, context, _settings.connection, server->stats, pins, _clock));
		_servers.push_back(std::move(server));
	}
	_prober.start([this] { probeLoop(); });
}

void UpstreamPool::probeLoop()
{
	std::unique_lock<std::mutex> lock(_prober.mutex());
	while (!_prober.stopping())
	{
		_prober.condition().wait_for(lock, PROBE_TICK);
		if (_prober.stopping())
			break;
		lock.unlock();
		checkServers();
		lock.lock();
	}
}

UpstreamPool::~UpstreamPool()
{
	stop();
}

void UpstreamPool::stop()
{
	_prober.stop();
	for (auto& server : _servers)
		for (auto& connection : server->connections)
			connection->stop();
}

size_t UpstreamPool::resetServers(const std::string& authName)
{
	auto lower = [](std::string text) {
		std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
		return text;
	};
	const std::string wanted = lower(authName);
	size_t matched = 0;
	for (auto& server : _servers)
	{
		// The name the pins are kept under (TlsConnector::pinName).
		const ServerEndpoint& endpoint = server->endpoint;
		if (lower(endpoint.authName.empty() ? endpoint.address.host().toString() : endpoint.authName) != wanted)
			continue;
		++matched;
		_selector.reset(server->index);
		for (auto& connection : server->connections)
			connection->reconnectNow();
		Poco::Logger::get("dnsproxy.upstream")
			.information("upstream %s (%s): TLS check changed, reconnecting now", endpoint.url(), wanted);
	}
	return matched;
}

bool UpstreamPool::healthy() const
{
	return std::any_of(_servers.begin(), _servers.end(), [](const auto& s) { return s->usable(); });
}

std::vector<size_t> UpstreamPool::order()
{
	return _selector.order(checkServers());
}

std::vector<bool> UpstreamPool::checkServers()
{
	std::vector<bool> connectable(_servers.size());
	bool anyUsable = false;
	for (auto& server : _servers)
	{
		connectable[server->index] = server->connectable();
		anyUsable = anyUsable || (connectable[server->index] && _selector.up(server->index));
	}
	// Nowhere else to go: queries and probes may connect during the back-off (at most every 250 ms).
	for (auto& server : _servers)
		for (auto& connection : server->connections)
			connection->setLastResort(!anyUsable);
	for (auto& server : _servers)
		probeIfDue(*server);
	return connectable;
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
	dns::MessageInfo info;
	if (dns::parseMessage(query.data(), query.size(), info) != dns::ParseError::NONE)
	{
		// Nothing that does not parse goes upstream: its answer could not be checked anyway.
		done(UpstreamResult{UpstreamResult::Status::FAILED, {}});
		return;
	}
	resolveParsed(std::move(query), info, std::move(done));
}

void UpstreamPool::resolveParsed(std::vector<uint8_t>&& query, const dns::MessageInfo& info, Callback done)
{
	std::string key = FlightCoalescer::key(query, info);
	if (key.empty())
	{
		start(std::move(query), info, std::move(done));
		return;
	}
	if (!_flights.join(key, dns::readId(query.data()), std::move(done)))
		return;
	start(std::move(query), info, [this, key](UpstreamResult&& result) { _flights.land(key, std::move(result)); });
}

void UpstreamPool::start(std::vector<uint8_t>&& query, const dns::MessageInfo& info, Callback done)
{
	auto prepared = prepareUpstreamQuery(std::move(query), info, _settings.keepalive, _settings.padding);
	if (!prepared)
	{
		done(UpstreamResult{UpstreamResult::Status::FAILED, {}});
		return;
	}
	auto attempt = std::make_shared<Attempt>();
	attempt->query = std::move(*prepared);
	attempt->sent = SentQuestion::of(info);
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
	// The last server keeps a copy too: a silent stream there earns the query one more try.
	std::vector<uint8_t> query =
		attempt->silentRetried && attempt->next == attempt->order.size() ? std::move(attempt->query) : attempt->query;
	auto sent = _clock();
	pickConnection(server).submit(
		std::move(query), attempt->sent, [this, attempt, &server, sent](UpstreamResult&& result) {
			auto now = _clock();
			if (result.status == UpstreamResult::Status::OK)
			{
				report(server, _selector.answered(server.index, sent, now));
				Callback done = std::move(attempt->done);
				done(std::move(result));
				return;
			}
			report(server, _selector.failed(server.index, result.status == UpstreamResult::Status::TIMEOUT, sent, now));
			attempt->lastStatus = result.status;
			if (result.silent && attempt->next == attempt->order.size() && !attempt->silentRetried)
			{
				// The stream went silent (half-open after a network change, say) and no other server
				// is left to try: the connection has dropped it, so the same server gets the query
				// once more on a fresh one. One more timeout at most.
				attempt->silentRetried = true;
				--attempt->next;
			}
			tryNext(attempt);
		});
}

} // namespace dnsproxy::upstream
