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

bool sameConnectionSettings(const ConnectionSettings& a, const ConnectionSettings& b)
{
	return a.timeoutMs == b.timeoutMs && a.maxInflight == b.maxInflight && a.idleTimeoutMs == b.idleTimeoutMs &&
		   a.sessionResumption == b.sessionResumption && a.opportunistic == b.opportunistic;
}

bool sameEndpoint(const ServerEndpoint& a, const ServerEndpoint& b)
{
	return a.address == b.address && a.authName == b.authName;
}
} // namespace

struct UpstreamPool::Attempt
{
	Roster* roster = nullptr; ///< the roster the query started with; order indexes into it
	std::vector<uint8_t> query;
	SentQuestion sent;
	Callback done;
	std::vector<size_t> order;
	size_t next = 0;
	UpstreamResult::Status lastStatus = UpstreamResult::Status::FAILED;
	bool silentRetried = false; ///< the one extra try after a silent (half-open) stream was used
};

UpstreamPool::Roster::Roster(const PoolSettings& s, Poco::Net::Context::Ptr c):
	settings(s),
	context(std::move(c)),
	selector(s.strategy, s.servers.size(), std::chrono::milliseconds(s.connection.timeoutMs)),
	placements(s.servers.size())
{
}

bool UpstreamPool::Server::connectable() const
{
	return std::any_of(connections.begin(), connections.end(), [](const auto& c) { return !c->backingOff(); });
}

bool UpstreamPool::Server::usable() const
{
	const Placement* where = placement.load(std::memory_order_acquire);
	return where && where->selector->up(where->index) && connectable();
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

void UpstreamPool::probeIfDue(Roster& roster, size_t index)
{
	UpstreamSelector& selector = roster.selector;
	if (!selector.claimProbe(index, _clock()))
		return;
	Server& server = *roster.servers[index];
	// ". IN NS" with RD: every resolver answers it, and it says nothing about any client.
	dns::Header header;
	header.id = static_cast<uint16_t>(selector.ticks() * PROBE_ID_MULTIPLIER);
	header.flags = dns::Header::RD;
	dns::MessageWriter writer;
	writer.setHeader(header);
	const uint8_t root[] = {0};
	writer.addQuestion(root, sizeof(root), dns::Type::NS, dns::Class::IN);
	std::vector<uint8_t> probe = writer.finish();
	dns::MessageInfo info;
	std::optional<std::vector<uint8_t>> prepared;
	if (dns::parseMessage(probe.data(), probe.size(), info) == dns::ParseError::NONE)
		prepared = prepareUpstreamQuery(std::move(probe), info, roster.settings.keepalive, roster.settings.padding);
	auto sent = _clock();
	if (!prepared)
	{
		selector.probeDone(index, false, sent, sent);
		return;
	}
	auto done = [this, &server, &selector, index, sent](UpstreamResult&& result) {
		report(server, selector.probeDone(index, result.status == UpstreamResult::Status::OK, sent, _clock()));
	};
	pickConnection(server).submit(std::move(*prepared), SentQuestion::of(info), std::move(done));
}

UpstreamPool::UpstreamPool(const PoolSettings& settings, Poco::Net::Context::Ptr context, PinSource* pins,
						   DotConnection::ClockSource clock):
	_clock(std::move(clock)),
	_pins(pins)
{
	auto roster = std::make_unique<Roster>(settings, std::move(context));
	for (const auto& endpoint : settings.servers)
		roster->servers.push_back(makeServer(endpoint, *roster));
	publish(std::move(roster));
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
		checkServers(*_roster.load(std::memory_order_acquire));
		lock.lock();
	}
}

UpstreamPool::~UpstreamPool()
{
	stop();
}

UpstreamPool::Server* UpstreamPool::makeServer(const ServerEndpoint& endpoint, const Roster& roster)
{
	auto server = std::make_unique<Server>();
	server->endpoint = endpoint;
	for (uint32_t i = 0; i < std::max<uint32_t>(1, roster.settings.connectionsPerServer); ++i)
		server->connections.push_back(std::make_unique<DotConnection>(
			endpoint, roster.context, roster.settings.connection, server->stats, _pins, _clock));
	_owned.push_back(std::move(server));
	return _owned.back().get();
}

void UpstreamPool::publish(std::unique_ptr<Roster> roster)
{
	for (size_t i = 0; i < roster->servers.size(); ++i)
	{
		roster->placements[i] = Server::Placement{&roster->selector, i};
		roster->servers[i]->placement.store(&roster->placements[i], std::memory_order_release);
	}
	_roster.store(roster.get(), std::memory_order_release);
	_rosters.push_back(std::move(roster));
}

void UpstreamPool::reconfigure(const PoolSettings& settings, Poco::Net::Context::Ptr context)
{
	const Roster& current = *_roster.load(std::memory_order_acquire);
	auto roster = std::make_unique<Roster>(settings, std::move(context));
	// A server is kept, with its connections and counters, when nothing its connections were
	// built from has changed; candidates are the current servers and those dropped last time.
	std::vector<Server*> candidates = current.servers;
	candidates.insert(candidates.end(), _retired.begin(), _retired.end());
	const bool sameBuild = current.context == roster->context &&
						   current.settings.connectionsPerServer == settings.connectionsPerServer &&
						   sameConnectionSettings(current.settings.connection, settings.connection);
	size_t keptCount = 0;
	for (const auto& endpoint : settings.servers)
	{
		Server* kept = nullptr;
		if (sameBuild)
		{
			auto found = std::find_if(candidates.begin(), candidates.end(),
									  [&](Server* s) { return s && sameEndpoint(s->endpoint, endpoint); });
			if (found != candidates.end())
			{
				kept = *found;
				*found = nullptr; // one server object per roster entry
			}
		}
		keptCount += kept ? 1 : 0;
		roster->servers.push_back(kept ? kept : makeServer(endpoint, *roster));
	}
	// Servers dropped by the previous reconfigure and not taken back: stopped now. Those dropped
	// by this one only stop taking new queries; their answers in flight still arrive.
	std::vector<Server*> retired;
	size_t stopped = 0;
	for (size_t i = 0; i < candidates.size(); ++i)
	{
		Server* server = candidates[i];
		if (!server)
			continue;
		if (i < current.servers.size())
			retired.push_back(server);
		else
		{
			++stopped;
			for (auto& connection : server->connections)
				connection->stop();
		}
	}
	_retired = std::move(retired);
	publish(std::move(roster));
	Poco::Logger::get("dnsproxy.upstream")
		.information("upstreams reconfigured: %z kept with their connections, %z new, %z dropped, %z stopped",
					 keptCount, settings.servers.size() - keptCount, _retired.size(), stopped);
}

void UpstreamPool::stop()
{
	_prober.stop();
	for (auto& server : _owned)
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
	Roster& roster = *_roster.load(std::memory_order_acquire);
	size_t matched = 0;
	for (size_t i = 0; i < roster.servers.size(); ++i)
	{
		Server& server = *roster.servers[i];
		// The name the pins are kept under (TlsConnector::pinName).
		const ServerEndpoint& endpoint = server.endpoint;
		if (lower(endpoint.authName.empty() ? endpoint.address.host().toString() : endpoint.authName) != wanted)
			continue;
		++matched;
		roster.selector.reset(i);
		for (auto& connection : server.connections)
			connection->reconnectNow();
		Poco::Logger::get("dnsproxy.upstream")
			.information("upstream %s (%s): TLS check changed, reconnecting now", endpoint.url(), wanted);
	}
	return matched;
}

bool UpstreamPool::healthy() const
{
	const auto& current = servers();
	return std::any_of(current.begin(), current.end(), [](const Server* s) { return s->usable(); });
}

std::vector<size_t> UpstreamPool::order(Roster& roster)
{
	return roster.selector.order(checkServers(roster));
}

std::vector<bool> UpstreamPool::checkServers(Roster& roster)
{
	std::vector<bool> connectable(roster.servers.size());
	bool anyUsable = false;
	for (size_t i = 0; i < roster.servers.size(); ++i)
	{
		connectable[i] = roster.servers[i]->connectable();
		anyUsable = anyUsable || (connectable[i] && roster.selector.up(i));
	}
	// Nowhere else to go: queries and probes may connect during the back-off (at most every 250 ms).
	for (Server* server : roster.servers)
		for (auto& connection : server->connections)
			connection->setLastResort(!anyUsable);
	for (size_t i = 0; i < roster.servers.size(); ++i)
		probeIfDue(roster, i);
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
	Roster& roster = *_roster.load(std::memory_order_acquire);
	auto prepared = prepareUpstreamQuery(std::move(query), info, roster.settings.keepalive, roster.settings.padding);
	if (!prepared)
	{
		done(UpstreamResult{UpstreamResult::Status::FAILED, {}});
		return;
	}
	auto attempt = std::make_shared<Attempt>();
	attempt->roster = &roster;
	attempt->query = std::move(*prepared);
	attempt->sent = SentQuestion::of(info);
	attempt->done = std::move(done);
	attempt->order = order(roster);
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
	const size_t index = attempt->order[attempt->next++];
	Server& server = *attempt->roster->servers[index];
	// The last server keeps a copy too: a silent stream there earns the query one more try.
	std::vector<uint8_t> query =
		attempt->silentRetried && attempt->next == attempt->order.size() ? std::move(attempt->query) : attempt->query;
	auto sent = _clock();
	pickConnection(server).submit(
		std::move(query), attempt->sent, [this, attempt, &server, index, sent](UpstreamResult&& result) {
			auto now = _clock();
			UpstreamSelector& selector = attempt->roster->selector;
			if (result.status == UpstreamResult::Status::OK)
			{
				report(server, selector.answered(index, sent, now));
				Callback done = std::move(attempt->done);
				done(std::move(result));
				return;
			}
			report(server, selector.failed(index, result.status == UpstreamResult::Status::TIMEOUT, sent, now));
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
