// UpstreamPool.cpp - server selection, failover and coalescing across DoT connections.
#include "upstream/UpstreamPool.h"

#include "dns/Constants.h"
#include "dns/Edns.h"
#include "dns/Header.h"
#include "dns/Message.h"
#include "dns/MessageWriter.h"
#include "dns/Name.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <chrono>

namespace dnsproxy::upstream
{

namespace
{
constexpr uint64_t PROBE_EVERY = 16;
/// RFC 8467 4.1: block-length padding of queries to a multiple of 128 octets.
constexpr size_t QUERY_PADDING_BLOCK = 128;

/// What a client's query loses on the way upstream: options that tell about the client (ECS,
/// cookie) and those of the client's own connection (keepalive, padding; ours replace them).
/// Everything else (NSID, DNSSEC signalling, unknown codes) is passed on, as SPEC 4 "Answers"
/// requires of the OPT.
const std::vector<uint16_t>& upstreamDropOptions()
{
	static const std::vector<uint16_t> codes = [] {
		std::vector<uint16_t> all = dns::clientPrivateOptions();
		const auto& hop = dns::connectionOptions();
		all.insert(all.end(), hop.begin(), hop.end());
		return all;
	}();
	return codes;
}
} // namespace

struct UpstreamPool::Attempt
{
	std::vector<uint8_t> query;
	SentQuestion sent;
	Callback done;
	std::vector<size_t> order;
	size_t next = 0;
	UpstreamResult::Status lastStatus = UpstreamResult::Status::FAILED;
};

/// Clients waiting for the same question; the first one's query went upstream.
struct UpstreamPool::Flight
{
	struct Waiter
	{
		uint16_t id;
		Callback done;
	};
	std::vector<Waiter> waiters;
};

bool UpstreamPool::Server::usable() const
{
	return downUntil.load(std::memory_order_relaxed) == 0 &&
		   std::any_of(connections.begin(), connections.end(), [](const auto& c) { return !c->backingOff(); });
}

void UpstreamPool::recordSuccess(Server& server)
{
	server.lastSuccess.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
	if (server.downUntil.exchange(0, std::memory_order_relaxed) != 0)
		Poco::Logger::get("dnsproxy.upstream").information("upstream %s is up again", server.endpoint.url());
	server.downCount.store(0, std::memory_order_relaxed);
}

void UpstreamPool::recordFailure(Server& server, std::chrono::steady_clock::time_point sent)
{
	// One slow name is not a dead server: only when nothing at all was answered since this query
	// went out is the server taken out of rotation.
	if (server.lastSuccess.load(std::memory_order_relaxed) >= sent.time_since_epoch().count())
		return;
	auto now = std::chrono::steady_clock::now();
	uint32_t count = server.downCount.load(std::memory_order_relaxed);
	auto backoff = std::chrono::milliseconds(std::min<uint64_t>(30000, 1000ull << std::min(count, 5u)));
	int64_t until = (now + backoff).time_since_epoch().count();
	if (server.downUntil.exchange(until, std::memory_order_relaxed) == 0)
		Poco::Logger::get("dnsproxy.upstream")
			.warning("upstream %s marked down for %ld ms", server.endpoint.url(), static_cast<long>(backoff.count()));
}

void UpstreamPool::probeIfDue(Server& server)
{
	int64_t until = server.downUntil.load(std::memory_order_relaxed);
	if (until == 0 || std::chrono::steady_clock::now().time_since_epoch().count() < until)
		return;
	if (server.probing.exchange(true))
		return;
	// ". IN NS" with RD: every resolver answers it, and it says nothing about any client.
	dns::Header header;
	header.id = static_cast<uint16_t>(_roundRobin.load() * 2654435761u);
	header.flags = 0x0100;
	dns::MessageWriter writer;
	writer.setHeader(header);
	const uint8_t root[] = {0};
	writer.addQuestion(root, sizeof(root), dns::Type::NS, dns::Class::IN);
	std::vector<uint8_t> probe = writer.finish();
	dns::MessageInfo info;
	std::optional<std::vector<uint8_t>> prepared;
	if (dns::parseMessage(probe.data(), probe.size(), info) == dns::ParseError::NONE)
		prepared = prepareQuery(std::move(probe), info, _settings.keepalive, _settings.padding);
	if (!prepared)
	{
		server.probing.store(false);
		return;
	}
	auto sent = std::chrono::steady_clock::now();
	auto done = [this, &server, sent](UpstreamResult&& result) {
		if (result.status == UpstreamResult::Status::OK)
			recordSuccess(server);
		else
		{
			server.downCount.fetch_add(1, std::memory_order_relaxed);
			server.downUntil.store(0, std::memory_order_relaxed); // re-armed by recordFailure with a longer back-off
			recordFailure(server, sent);
		}
		server.probing.store(false);
	};
	pickConnection(server).submit(std::move(*prepared), SentQuestion::of(info), std::move(done));
}

UpstreamPool::UpstreamPool(const PoolSettings& settings, Poco::Net::Context::Ptr context, PinSource* pins):
	_settings(settings)
{
	for (const auto& endpoint : _settings.servers)
	{
		auto server = std::make_unique<Server>();
		server->endpoint = endpoint;
		for (uint32_t i = 0; i < std::max<uint32_t>(1, _settings.connectionsPerServer); ++i)
			server->connections.push_back(
				std::make_unique<DotConnection>(endpoint, context, _settings.connection, server->stats, pins));
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
	return std::any_of(_servers.begin(), _servers.end(), [](const auto& s) { return s->usable(); });
}

std::optional<std::vector<uint8_t>> UpstreamPool::prepareQuery(std::vector<uint8_t>&& query,
															   const dns::MessageInfo& info, bool keepalive,
															   bool padding)
{
	if (query.size() < dns::HEADER_SIZE)
		return std::nullopt;
	// SPEC 4: always ask for recursion. Header and question stay in place through the rewrite.
	query[2] = static_cast<uint8_t>(query[2] | (dns::Header::RD >> 8));
	const bool clientPrivate = dns::hasOption(query.data(), info.edns, dns::clientPrivateOptions());
	if (!keepalive && !padding && !clientPrivate && !dns::hasOption(query.data(), info.edns, dns::connectionOptions()))
		return std::move(query);
	std::vector<dns::EdnsOption> add;
	if (keepalive)
		add.push_back({dns::EdnsOptionCode::TCP_KEEPALIVE, {}}); // RFC 7828 3.2.1: empty in queries
	auto rewritten = dns::rewriteOpt(query.data(), query.size(), info, dns::DEFAULT_UDP_PAYLOAD_SIZE,
									 upstreamDropOptions(), add, padding ? QUERY_PADDING_BLOCK : 0);
	if (rewritten)
		return rewritten;
	// Crafted only (a name running into the OPT, or 64 KB already): never forward what tells
	// about the client; anything else goes as the client wrote it, as before.
	if (clientPrivate)
		return std::nullopt;
	return std::move(query);
}

std::string UpstreamPool::flightKey(const std::vector<uint8_t>& query, const dns::MessageInfo& info)
{
	if (info.qnameCompressed || info.qnameOffset + info.qnameLength > query.size())
		return {};
	std::string key(reinterpret_cast<const char*>(query.data() + info.qnameOffset), info.qnameLength);
	dns::toLowerWire(reinterpret_cast<uint8_t*>(key.data()), key.size());
	key.push_back(static_cast<char>(info.qtype >> 8));
	key.push_back(static_cast<char>(info.qtype & 0xff));
	key.push_back(static_cast<char>(info.qclass >> 8));
	key.push_back(static_cast<char>(info.qclass & 0xff));
	key.push_back(
		static_cast<char>((info.edns.dnssecOk ? 2 : 0) | (info.header.cd() ? 4 : 0) | (info.edns.present ? 8 : 0)));
	return key;
}

std::vector<size_t> UpstreamPool::order()
{
	std::vector<size_t> result(_servers.size());
	for (size_t i = 0; i < result.size(); ++i)
		result[i] = i;
	uint64_t tick = _roundRobin.fetch_add(1, std::memory_order_relaxed);
	for (auto& server : _servers)
		probeIfDue(*server);
	if (_settings.strategy == SelectionStrategy::ROUND_ROBIN && !result.empty())
	{
		std::rotate(result.begin(), result.begin() + static_cast<std::ptrdiff_t>(tick % result.size()), result.end());
	}
	else if (_settings.strategy == SelectionStrategy::FASTEST && result.size() > 1)
	{
		// Servers without a sample yet sort first, so each gets measured.
		std::stable_sort(result.begin(), result.end(), [this](size_t a, size_t b) {
			return _servers[a]->srttMicros.load(std::memory_order_relaxed) <
				   _servers[b]->srttMicros.load(std::memory_order_relaxed);
		});
		if (tick % PROBE_EVERY == PROBE_EVERY - 1)
		{
			size_t other = 1 + (tick / PROBE_EVERY) % (result.size() - 1);
			std::swap(result[0], result[other]);
		}
	}
	// Servers that are backing off after connect failures are tried last, in the same relative order.
	std::stable_partition(result.begin(), result.end(), [this](size_t i) { return _servers[i]->usable(); });
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
	std::string key = flightKey(query, info);
	if (key.empty())
	{
		start(std::move(query), info, std::move(done));
		return;
	}
	{
		std::lock_guard<std::mutex> lock(_flightsMutex);
		auto it = _flights.find(key);
		if (it != _flights.end())
		{
			it->second->waiters.push_back({dns::readId(query.data()), std::move(done)});
			_coalesced.fetch_add(1, std::memory_order_relaxed);
			return;
		}
		auto flight = std::make_shared<Flight>();
		flight->waiters.push_back({dns::readId(query.data()), std::move(done)});
		_flights.emplace(key, std::move(flight));
	}
	start(std::move(query), info, [this, key](UpstreamResult&& result) { land(key, std::move(result)); });
}

void UpstreamPool::land(const std::string& key, UpstreamResult&& result)
{
	std::shared_ptr<Flight> flight;
	{
		std::lock_guard<std::mutex> lock(_flightsMutex);
		auto it = _flights.find(key);
		if (it == _flights.end())
			return;
		flight = std::move(it->second);
		_flights.erase(it);
	}
	auto& waiters = flight->waiters;
	for (size_t i = 0; i < waiters.size(); ++i)
	{
		UpstreamResult copy{result.status, i + 1 == waiters.size() ? std::move(result.answer) : result.answer};
		if (copy.answer.size() >= dns::HEADER_SIZE)
			dns::writeId(copy.answer.data(), waiters[i].id);
		waiters[i].done(std::move(copy));
	}
}

void UpstreamPool::start(std::vector<uint8_t>&& query, const dns::MessageInfo& info, Callback done)
{
	auto prepared = prepareQuery(std::move(query), info, _settings.keepalive, _settings.padding);
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
	std::vector<uint8_t> query = attempt->next < attempt->order.size() ? attempt->query : std::move(attempt->query);
	auto sent = std::chrono::steady_clock::now();
	pickConnection(server).submit(
		std::move(query), attempt->sent, [this, attempt, &server, sent](UpstreamResult&& result) {
			if (result.status == UpstreamResult::Status::OK)
			{
				recordSuccess(server);
				auto micros = static_cast<uint32_t>(
					std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - sent)
						.count());
				uint32_t old = server.srttMicros.load(std::memory_order_relaxed);
				server.srttMicros.store(old == 0 ? micros : (old * 7 + micros) / 8, std::memory_order_relaxed);
				Callback done = std::move(attempt->done);
				done(std::move(result));
				return;
			}
			// A server that timed out counts as slow for `fastest`.
			if (result.status == UpstreamResult::Status::TIMEOUT)
				server.srttMicros.store(
					std::max<uint32_t>(server.srttMicros.load() * 2, _settings.connection.timeoutMs * 1000u),
					std::memory_order_relaxed);
			recordFailure(server, sent);
			attempt->lastStatus = result.status;
			tryNext(attempt);
		});
}

} // namespace dnsproxy::upstream
