// StatsCollector.cpp - one snapshot of every counter.
#include "app/StatsCollector.h"

#include "upstream/TlsConnector.h"
#include "upstream/UpstreamPool.h"

namespace dnsproxy::app
{

namespace
{

/// The snapshot's name for what an upstream's newest connection speaks (UpstreamStats::transport).
const char* upstreamTransportName(int transport)
{
	switch (transport)
	{
	case upstream::TRANSPORT_CLEAR_TEXT:
		return "clear";
	case upstream::TRANSPORT_UNAUTHENTICATED_TLS:
		return "tls-unauthenticated";
	default:
		return "tls";
	}
}

uint64_t get(const std::atomic<uint64_t>& counter)
{
	return counter.load(std::memory_order_relaxed);
}

void copyEncrypted(const stats::EncryptedStats& from, stats::StatsSnapshot::Encrypted& to)
{
	to.connectionsNow = get(from.connectionsNow);
	to.connectionsAccepted = get(from.connectionsAccepted);
	to.handshakes = get(from.handshakes);
	to.resumptions = get(from.resumptions);
	to.handshakeFailures = get(from.handshakeFailures);
	to.handshakeTimeouts = get(from.handshakeTimeouts);
	to.rateLimited = get(from.rateLimited);
	to.http2Connections = get(from.http2Connections);
	to.http1Connections = get(from.http1Connections);
	to.httpErrors = get(from.httpErrors);
}
} // namespace

StatsCollector::StatsCollector(const stats::FrontendStats& frontend, const upstream::UpstreamPool& pool,
							   std::function<uint64_t()> pending):
	_frontend(frontend),
	_pool(pool),
	_pending(std::move(pending)),
	_started(std::chrono::steady_clock::now())
{
}

void StatsCollector::addFiller(Filler filler)
{
	_fillers.push_back(std::move(filler));
}

stats::StatsSnapshot StatsCollector::snapshot() const
{
	stats::StatsSnapshot s;
	s.uptimeSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - _started).count();
	s.queries.udp = get(_frontend.udpQueries);
	s.queries.tcp = get(_frontend.tcpQueries);
	s.queries.tls = get(_frontend.dotQueries);
	s.queries.https = get(_frontend.dohQueries);
	copyEncrypted(_frontend.dot, s.tls);
	copyEncrypted(_frontend.doh, s.https);
	for (size_t i = 0; i < s.answersByRcode.size(); ++i)
		s.answersByRcode[i] = get(_frontend.answersByRcode[i]);
	s.clients.tcpConnectionsNow = get(_frontend.tcpConnectionsNow);
	s.clients.tcpConnectionsAccepted = get(_frontend.tcpConnectionsAccepted);
	s.clients.tcpConnectionsRefused = get(_frontend.tcpConnectionsRefused);
	s.clients.tcpIdleClosed = get(_frontend.tcpIdleClosed);
	s.clients.refusedByAcl = get(_frontend.refusedByAcl);
	s.clients.overLimit = get(_frontend.overLimit);
	s.clients.malformed = get(_frontend.malformed);
	s.clients.truncated = get(_frontend.truncated);
	s.clients.pending = _pending ? _pending() : 0;
	for (const auto& server : _pool.servers())
	{
		const stats::UpstreamStats& u = server->stats;
		stats::StatsSnapshot::Upstream up;
		up.address = server->endpoint.address.toString();
		up.name = server->endpoint.authName;
		up.state = server->usable() ? "up" : "down";
		up.connectionsOpened = get(u.connectionsOpened);
		up.connectionsNow = get(u.connectionsNow);
		up.connectFailures = get(u.connectFailures);
		up.tlsResumptions = get(u.tlsResumptions);
		up.queries = get(u.queries);
		up.answers = get(u.answers);
		up.failures = get(u.failures);
		up.timeouts = get(u.timeouts);
		up.retries = get(u.retries);
		up.badAnswers = get(u.badAnswers);
		up.pinRefusals = get(u.pinRefusals);
		up.unauthenticatedTls = get(u.unauthenticatedTls);
		up.clearTextFallbacks = get(u.clearTextFallbacks);
		up.downgradesRefused = get(u.downgradesRefused);
		up.transport = upstreamTransportName(u.transport.load(std::memory_order_relaxed));
		up.serverCloses = get(u.serverCloses);
		up.idleCloses = get(u.idleCloses);
		up.learnedIdleMs = u.learnedIdleMs.load(std::memory_order_relaxed);
		up.latencyP50Ms = u.latency.quantileMs(0.50);
		up.latencyP95Ms = u.latency.quantileMs(0.95);
		up.latencyP99Ms = u.latency.quantileMs(0.99);
		up.latencyBucketBoundsMs.assign(stats::LatencyHistogram::BOUNDS_MS.begin(),
										stats::LatencyHistogram::BOUNDS_MS.end());
		for (size_t i = 0; i < stats::LatencyHistogram::BUCKETS; ++i)
			up.latencyBucketCounts.push_back(u.latency.count(i));
		up.latencySumMs = u.latency.sumMs();
		s.upstreams.push_back(std::move(up));
	}
	s.coalesced = _pool.coalesced();
	for (const auto& filler : _fillers)
		filler(s);
	return s;
}

} // namespace dnsproxy::app
