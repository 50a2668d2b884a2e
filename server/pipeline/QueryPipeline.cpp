// QueryPipeline.cpp - validation, cache, forwarding, serve-stale timer and answer shaping.
#include "pipeline/QueryPipeline.h"

#include "common/WorkerThread.h"
#include "dns/AnswerPatch.h"
#include "dns/Constants.h"
#include "dns/Edns.h"
#include "dns/Header.h"
#include "dns/Message.h"
#include "dns/Name.h"
#include "dns/Response.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <queue>
#include <random>

namespace dnsproxy::pipeline
{

struct QueryPipeline::Request
{
	std::vector<uint8_t> query;
	dns::MessageInfo info;
	frontend::Transport transport = frontend::Transport::UDP;
	std::shared_ptr<frontend::Responder> responder; ///< null for a prefetch nobody waits for
	std::string cacheKey;                           ///< empty when the answer is not cached
	int source = SourceShares::NONE;                ///< the client's SourceShares slot; NONE for a prefetch
	std::atomic<bool> answered{false};              ///< set by whoever responds first
};

/// One thread that fires the RFC 8767 client-response timer of requests that have a stale answer
/// to fall back on. Requests are held weakly: one answered and gone costs nothing.
class QueryPipeline::StaleTimer
{
public:
	explicit StaleTimer(QueryPipeline& pipeline):
		_pipeline(pipeline)
	{
		_worker.start([this] { run(); });
	}

	~StaleTimer()
	{
		_worker.stop();
	}

	void schedule(std::chrono::steady_clock::time_point deadline, std::weak_ptr<Request> request)
	{
		{
			std::lock_guard<std::mutex> lock(_worker.mutex());
			_queue.push(Item{deadline, std::move(request)});
		}
		_worker.notifyOne();
	}

private:
	struct Item
	{
		std::chrono::steady_clock::time_point deadline;
		std::weak_ptr<Request> request;
		bool operator>(const Item& other) const
		{
			return deadline > other.deadline;
		}
	};

	void run()
	{
		std::unique_lock<std::mutex> lock(_worker.mutex());
		while (!_worker.stopping())
		{
			if (_queue.empty())
			{
				_worker.condition().wait(lock);
				continue;
			}
			const auto deadline = _queue.top().deadline;
			if (std::chrono::steady_clock::now() < deadline)
			{
				_worker.condition().wait_until(lock, deadline);
				continue;
			}
			std::shared_ptr<Request> request = _queue.top().request.lock();
			_queue.pop();
			if (!request || request->answered.load())
				continue;
			lock.unlock();
			_pipeline.answerFromCache(*request);
			lock.lock();
		}
	}

	QueryPipeline& _pipeline;
	std::priority_queue<Item, std::vector<Item>, std::greater<Item>> _queue;
	common::WorkerThread _worker; ///< its mutex() also guards _queue
};

namespace
{

uint16_t randomId()
{
	thread_local std::minstd_rand generator(std::random_device{}());
	return static_cast<uint16_t>(generator());
}

} // namespace

QueryPipeline::QueryPipeline(const PipelineSettings& settings, const frontend::ClientAcl& acl,
							 upstream::UpstreamClient& upstream, stats::FrontendStats& stats,
							 cache::PacketCache* cache):
	_settings(settings),
	_acl(&acl),
	_logQueries(settings.logQueries),
	_upstream(upstream),
	_stats(stats),
	_cache(cache),
	_shares(settings.maxPending),
	_queryLogger(Poco::Logger::get("dnsproxy.query"))
{
	if (_cache && _cache->settings().serveStale)
		_staleTimer = std::make_unique<StaleTimer>(*this);
}

QueryPipeline::~QueryPipeline() = default;

void QueryPipeline::answer(frontend::Responder& responder, std::vector<uint8_t>&& message)
{
	countAnswer(message);
	responder.respond(std::move(message));
}

namespace
{

/// handleQuery()'s ResponderFactory: hands out the responder the caller already made.
class GivenResponder: public frontend::ResponderFactory
{
public:
	explicit GivenResponder(std::shared_ptr<frontend::Responder> responder):
		_responder(std::move(responder))
	{
	}
	std::shared_ptr<frontend::Responder> make() override
	{
		_taken = true;
		return _responder;
	}
	bool taken() const
	{
		return _taken;
	}
	frontend::Responder& responder()
	{
		return *_responder;
	}

private:
	std::shared_ptr<frontend::Responder> _responder;
	bool _taken = false;
};

} // namespace

void QueryPipeline::handleQuery(std::vector<uint8_t>&& query, const frontend::ClientInfo& client,
								std::shared_ptr<frontend::Responder> responder)
{
	GivenResponder later(std::move(responder));
	frontend::RawQuery raw{query.data(), query.size(), client.address.addr(),
						   static_cast<socklen_t>(client.address.length()), client.transport};
	std::vector<uint8_t> answer;
	if (handleRaw(raw, answer, later))
		later.responder().respond(std::move(answer));
	else if (!later.taken())
		later.responder().drop();
}

bool QueryPipeline::handleRaw(const frontend::RawQuery& raw, std::vector<uint8_t>& out,
							  frontend::ResponderFactory& later)
{
	const uint8_t* query = raw.data;
	const size_t length = raw.length;
	auto header = dns::Header::parse(query, length);
	if (!header || header->qr())
	{
		// No header at all: nothing to answer to. An answer sent to our listener: never reply to it
		// (that would let two servers bounce messages at each other).
		stats::bump(_stats.malformed);
		return false;
	}
	// SPEC 4: the source is checked before any work beyond the header. A refused source gets its
	// REFUSED from the header and the first question, which cannot be compressed (a pointer before
	// it would point into the header): at most 255 octets read, whatever else the message holds.
	if (!_acl.load(std::memory_order_acquire)->allows(raw.peer))
	{
		stats::bump(_stats.refusedByAcl);
		return answerWithQuestion(out, query, length, dns::Rcode::REFUSED);
	}
	// Like unbound: an opcode we do not implement is NOTIMP whatever its sections hold (RFC 2136
	// UPDATE and RFC 1996 NOTIFY carry records), answered from the header and question too.
	if (header->opcode() != dns::Opcode::QUERY)
		return answerWithQuestion(out, query, length, dns::Rcode::NOTIMP);
	// A query has one question, no answer or authority records and at most its OPT: refused from
	// the header, so records the proxy would never use are never walked.
	dns::MessageInfo info;
	if (dns::checkQueryCounts(*header) != dns::ParseError::NONE ||
		dns::parseMessage(query, length, info) != dns::ParseError::NONE)
	{
		stats::bump(_stats.malformed);
		return answerAtOnce(out, dns::makeErrorResponse(query, length, nullptr, dns::Rcode::FORMERR));
	}
	logQuery(raw, info);
	return resolve(raw, info, out, later);
}

void QueryPipeline::logQuery(const frontend::RawQuery& raw, const dns::MessageInfo& info)
{
	if (!_logQueries.load(std::memory_order_relaxed) || !_queryLogger.information())
		return;
	const Poco::Net::SocketAddress client(raw.peer, static_cast<poco_socklen_t>(raw.peerLength));
	_queryLogger.information("%s %s %s type %hu", client.toString(),
							 std::string(frontend::transportName(raw.transport)),
							 dns::nameToString(raw.data + info.qnameOffset, info.qnameLength), info.qtype);
}

bool QueryPipeline::resolve(const frontend::RawQuery& raw, const dns::MessageInfo& info, std::vector<uint8_t>& out,
							frontend::ResponderFactory& later)
{
	const uint8_t* query = raw.data;
	const size_t length = raw.length;
	// One key buffer per worker thread: no allocation per query for names that fit.
	thread_local std::string key;
	const bool cacheable = _cache && cache::CacheKey::fromQuery(query, info, key);
	bool staleAvailable = false;
	if (cacheable)
	{
		// The only cache probe of this query: a fresh hit is copied straight into `out`.
		bool needsPrefetch = false;
		const auto probe = _cache->probe(key, out, needsPrefetch);
		if (probe == cache::PacketCache::Probe::FRESH)
		{
			if (needsPrefetch)
				prefetch(std::vector<uint8_t>(query, query + length), key);
			shapeInPlace(out, query, length, info, raw.transport, true);
			countAnswer(out);
			return true;
		}
		staleAvailable = probe == cache::PacketCache::Probe::STALE;
	}
	// Not a fresh hit: from here on the query needs state that outlives this call.
	auto request = std::make_shared<Request>();
	request->query.assign(query, query + length);
	request->info = info;
	request->transport = raw.transport;
	request->source = _shares.slotOf(raw.peer);
	if (cacheable)
		request->cacheKey = key;
	request->responder = later.make();
	if (_secondLevel && cacheable)
	{
		// Fleet (SPEC 4b): a local miss asks the shared tier first; it calls back within its own
		// time limit (at once while Redis is skipped), on one of its threads.
		_secondLevel->lookup(request->cacheKey,
							 [this, request, staleAvailable](std::optional<std::vector<uint8_t>>&& hit) {
								 if (!hit || !answerFromSecondLevel(*request, std::move(*hit)))
									 forward(request, staleAvailable);
							 });
		return false;
	}
	forward(request, staleAvailable);
	return false;
}

bool QueryPipeline::answerWithQuestion(std::vector<uint8_t>& out, const uint8_t* query, size_t length, uint8_t rcode)
{
	dns::MessageInfo head;
	const bool question = dns::parseQuestion(query, length, head) == dns::ParseError::NONE;
	return answerAtOnce(out, dns::makeErrorResponse(query, length, question ? &head : nullptr, rcode));
}

bool QueryPipeline::answerAtOnce(std::vector<uint8_t>& out, std::vector<uint8_t>&& message)
{
	out = std::move(message);
	countAnswer(out);
	return true;
}

void QueryPipeline::countAnswer(const std::vector<uint8_t>& message)
{
	if (message.size() >= dns::HEADER_SIZE)
		_stats.countAnswer(dns::readRcode(message.data()));
}

bool QueryPipeline::answerFromSecondLevel(Request& request, std::vector<uint8_t>&& message)
{
	// Served only if the local cache takes it for this key (question matches, TtlPolicy admits).
	if (!_cache || !_cache->insert(request.cacheKey, message.data(), message.size()))
		return false;
	request.answered.store(true);
	answer(*request.responder, shape(std::move(message), request));
	return true;
}

void QueryPipeline::forward(const std::shared_ptr<Request>& request, bool staleAvailable)
{
	// maxPending for all clients together, and no source above its share of it (SourceShares), so
	// one flooding client leaves room for the others. Either way the query costs no upstream work.
	const bool overAll = _pending.fetch_add(1, std::memory_order_relaxed) >= _settings.maxPending;
	if (overAll || !_shares.acquire(request->source))
	{
		_pending.fetch_sub(1, std::memory_order_relaxed);
		stats::bump(_stats.overLimit);
		// Overloaded: a stale answer (RFC 8767) is better than REFUSED when there is one.
		if (!answerFromCache(*request))
			answer(*request->responder, dns::makeErrorResponse(request->query.data(), request->query.size(),
															   &request->info, dns::Rcode::REFUSED));
		return;
	}
	std::vector<uint8_t> upstreamQuery = request->query;
	if (staleAvailable && _staleTimer)
		_staleTimer->schedule(
			std::chrono::steady_clock::now() + std::chrono::milliseconds(_settings.staleAnswerAfterMs), request);
	// The query was parsed once where it entered; the upstream layer reuses that parse.
	_upstream.resolveParsed(
		std::move(upstreamQuery), request->info,
		[this, request](upstream::UpstreamResult&& result) { complete(*request, std::move(result)); });
}

void QueryPipeline::prefetch(const std::vector<uint8_t>& query, const std::string& key)
{
	// Background work obeys the same limit as clients; a skipped refresh just lets the entry expire.
	if (_pending.fetch_add(1, std::memory_order_relaxed) >= _settings.maxPending)
	{
		_pending.fetch_sub(1, std::memory_order_relaxed);
		return;
	}
	auto request = std::make_shared<Request>();
	request->cacheKey = key;
	std::vector<uint8_t> synthetic = query;
	dns::writeId(synthetic.data(), randomId());
	_upstream.resolve(std::move(synthetic),
					  [this, request](upstream::UpstreamResult&& result) { complete(*request, std::move(result)); });
}

bool QueryPipeline::answerFromCache(Request& request)
{
	if (!_cache || request.cacheKey.empty() || !request.responder)
		return false;
	auto hit = _cache->lookup(request.cacheKey, false);
	if (!hit || dns::readRcode(hit->answer.data()) == dns::Rcode::SERVFAIL)
		return false;
	if (request.answered.exchange(true))
		return true; // the other side (timer or upstream) has answered already
	if (!hit->fresh)
		_cache->countStaleServed();
	answer(*request.responder, shape(std::move(hit->answer), request));
	return true;
}

void QueryPipeline::complete(Request& request, upstream::UpstreamResult&& result)
{
	_pending.fetch_sub(1, std::memory_order_relaxed);
	_shares.release(request.source);
	dns::MessageInfo a;
	const bool ok = result.status == upstream::UpstreamResult::Status::OK &&
					dns::parseMessage(result.answer.data(), result.answer.size(), a, true) == dns::ParseError::NONE;
	// Stored as the upstream gave it, before any per-client shaping; TtlPolicy decides what stays.
	if (ok && _cache && !request.cacheKey.empty())
	{
		const bool stored = _cache->insert(request.cacheKey, result.answer.data(), result.answer.size());
		// Fleet (SPEC 4b): what the local cache admitted is shared too, written in the background.
		if (stored && _secondLevel)
			_secondLevel->store(request.cacheKey, result.answer.data(), result.answer.size());
	}
	if (!request.responder)
		return; // a prefetch: refreshing the cache was all it was for
	// RFC 8767: a failed, timed-out or SERVFAIL refresh is what stale data is kept for.
	if ((!ok || a.header.rcode() == dns::Rcode::SERVFAIL) && answerFromCache(request))
		return;
	if (request.answered.exchange(true))
		return; // the stale answer went out already; the upstream answer only refreshed the cache
	const dns::MessageInfo& q = request.info;
	if (!ok)
	{
		answer(*request.responder,
			   dns::makeErrorResponse(request.query.data(), request.query.size(), &q, dns::Rcode::SERVFAIL));
		return;
	}
	answer(*request.responder, shape(std::move(result.answer), request));
}

std::vector<uint8_t> QueryPipeline::shape(std::vector<uint8_t>&& message, const Request& request) const
{
	shapeInPlace(message, request.query.data(), request.query.size(), request.info, request.transport, false);
	return std::move(message);
}

void QueryPipeline::shapeEdns(std::vector<uint8_t>& message, const dns::MessageInfo& q, const dns::MessageInfo& a,
							  frontend::Transport transport, bool fromCache) const
{
	// EDNS: a client without EDNS gets no OPT. The upstream's padding and keepalive describe the
	// proxy's own connection and never reach a client; ECS and cookies never do either (an old cache
	// or fleet entry may still hold another client's subnet). The client's own connection options
	// are answered here: keepalive with our idle timeout on TCP and DoT (RFC 7828, never on UDP),
	// padding to 468-octet blocks on DoT and DoH when the query was padded (RFC 8467).
	if (!q.edns.present)
	{
		if (!a.edns.present)
			return;
		if (fromCache && a.edns.rrOffset + a.edns.rrLength == message.size())
		{
			// PacketCache keeps the OPT last and self-contained: dropping it is a resize.
			message.resize(a.edns.rrOffset);
			dns::writeArcount(message.data(), static_cast<uint16_t>(a.header.arcount - 1));
		}
		else if (auto rewritten = dns::removeOpt(message.data(), message.size()))
			message = std::move(*rewritten);
		return;
	}
	const bool keepalive =
		q.edns.hasKeepalive && (transport == frontend::Transport::TCP || transport == frontend::Transport::DOT);
	const size_t padBlock = q.edns.hasPadding && frontend::encrypted(transport) ? PipelineSettings::RESPONSE_PAD_BLOCK : 0;
	if (!keepalive && padBlock == 0 && !a.edns.hasPadding && !a.edns.hasKeepalive &&
		!(a.edns.present && dns::hasOption(message.data(), a.edns, dns::clientPrivateOptions())))
		return; // the hot path: nothing to change
	std::vector<uint16_t> drop = dns::clientPrivateOptions();
	drop.push_back(dns::EdnsOptionCode::PADDING);
	drop.push_back(dns::EdnsOptionCode::TCP_KEEPALIVE);
	std::vector<dns::EdnsOption> add;
	if (keepalive)
	{
		const uint32_t units = std::min<uint32_t>(_settings.clientIdleTimeoutMs / 100, 0xffff);
		add.push_back({dns::EdnsOptionCode::TCP_KEEPALIVE,
					   {static_cast<uint8_t>(units >> 8), static_cast<uint8_t>(units & 0xff)}});
	}
	if (auto rewritten =
			dns::rewriteOpt(message.data(), message.size(), a, _settings.udpPayloadSize, drop, add, padBlock))
		message = std::move(*rewritten);
}

void QueryPipeline::shapeInPlace(std::vector<uint8_t>& message, const uint8_t* query, size_t queryLength,
								 const dns::MessageInfo& q, frontend::Transport transport, bool fromCache) const
{
	dns::MessageInfo a;
	if (dns::parseMessage(message.data(), message.size(), a, true) != dns::ParseError::NONE)
	{
		message = dns::makeErrorResponse(query, queryLength, &q, dns::Rcode::SERVFAIL);
		return;
	}
	// Cached answers carry ID 0 and a lower-case question; the client gets its own ID and letter case
	// (0x20) back. fuzz_cache_patch exercises this together with the cache's TTL ageing.
	dns::patchAnswerForClient(message.data(), message.size(), a, query, q);

	shapeEdns(message, q, a, transport, fromCache);

	if (transport == frontend::Transport::UDP)
	{
		// RFC 6891 6.2.5: a requestor's size below 512 is treated as 512.
		size_t limit = 512;
		if (q.edns.present)
			limit = std::max<size_t>(512, std::min<size_t>(q.edns.udpPayloadSize, _settings.udpPayloadSize));
		if (message.size() > limit)
		{
			if (auto truncated = dns::makeTruncated(message.data(), message.size()))
			{
				stats::bump(_stats.truncated);
				message = std::move(*truncated);
			}
		}
	}
}

} // namespace dnsproxy::pipeline
