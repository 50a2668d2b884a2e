// QueryPipeline.h - from a client's query bytes to the bytes of its answer.
#pragma once

#include "cache/PacketCache.h"
#include "frontend/ClientAcl.h"
#include "frontend/QueryHandler.h"
#include "pipeline/SecondLevelCache.h"
#include "pipeline/SourceShares.h"
#include "stats/Stats.h"
#include "upstream/UpstreamClient.h"

#include <Poco/Logger.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace dnsproxy::pipeline
{

struct PipelineSettings
{
	uint16_t udpPayloadSize = 1232; ///< largest UDP answer sent; the client's EDNS size caps it further
	uint32_t maxPending = 10000;    ///< queries waiting for upstreams, all clients together
									///< (one source: at most a quarter, see SourceShares)
	bool logQueries = false;
	/// RFC 8767 5 client-response timer: when a stale answer exists and the upstream has not
	/// answered after this long, the client gets the stale answer; the upstream answer still
	/// refreshes the cache when it comes. RFC 8767 suggests 1.8 s; 1.5 s leaves room under the 2 s
	/// that client resolvers commonly wait. The app sets min(this default, timeoutMs x servers).
	static constexpr uint32_t DEFAULT_STALE_ANSWER_AFTER_MS = 1500;
	uint32_t staleAnswerAfterMs = DEFAULT_STALE_ANSWER_AFTER_MS;
	/// RFC 7828: the idle timeout announced to TCP and DoT clients that send edns-tcp-keepalive
	/// ([server] tcp_idle_timeout_ms); never on UDP, where the option is not allowed.
	uint32_t clientIdleTimeoutMs = 10000;
	/// RFC 8467 4.1: answers to padded queries on DoT and DoH are padded to this block size.
	static constexpr size_t RESPONSE_PAD_BLOCK = 468;
};

/// Implements the front end's QueryHandler:
/// header -> ACL -> opcode check -> counts check -> parse -> cache -> pending limit -> upstream ->
/// cache insert -> shaping. Nothing past the header and question is read for a refused source.
/// Shaping restores what the client sent (ID, name case per the 0x20 practice), removes EDNS
/// options that only the proxy uses, and truncates UDP answers that exceed the client's size; it
/// runs on every answer, from the cache or from the upstream. The cache stores upstream answers
/// as they came, before shaping.
///
/// With a cache: a fresh hit is answered at once and never counts against maxPending; a hit
/// flagged for prefetch also sends the same question upstream in the background (a synthetic
/// query nobody waits for) whose answer refreshes the entry. On a miss the upstream is asked;
/// if it fails, times out or answers SERVFAIL and a stale entry exists, the stale answer goes out
/// (RFC 8767), else SERVFAIL. If a stale entry exists and the upstream is slower than
/// staleAnswerAfterMs, the stale answer goes out then, and the late upstream answer only
/// refreshes the cache.
///
/// Threading: handleQuery() runs on front-end workers, completions on upstream threads, the
/// stale-answer timer on its own thread (only when a cache is given). Each request carries an
/// atomic "answered" flag so exactly one of upstream completion and timer responds; everything
/// else shared is atomics or the thread-safe PacketCache. The ACL and query logging can be changed
/// by a reload (setAcl, setLogQueries) while queries run: both are atomics.
class QueryPipeline: public frontend::QueryHandler
{
public:
	/// `cache` may be null (cache disabled); it must outlive the pipeline.
	QueryPipeline(const PipelineSettings& settings, const frontend::ClientAcl& acl, upstream::UpstreamClient& upstream,
				  stats::FrontendStats& stats, cache::PacketCache* cache = nullptr);
	~QueryPipeline() override;

	void handleQuery(std::vector<uint8_t>&& query, const frontend::ClientInfo& client,
					 std::shared_ptr<frontend::Responder> responder) override;

	/// The listeners' path (see QueryHandler): one parse and one cache probe per query. A fresh
	/// hit is shaped into `answer` with nothing allocated once the buffers are warm; error
	/// answers are made at once too; everything else becomes a Request answered later.
	bool handleRaw(const frontend::RawQuery& query, std::vector<uint8_t>& answer,
				   frontend::ResponderFactory& later) override;

	/// The allow list, for the TCP listener's check at accept.
	bool admits(const sockaddr* peer) const override
	{
		return _acl.load(std::memory_order_acquire)->allows(peer);
	}

	/// SIGHUP reload: the allow list, from the next query on. `acl` must outlive the pipeline (the
	/// app keeps every ACL it set), because a worker may still be reading the previous one.
	void setAcl(const frontend::ClientAcl& acl)
	{
		_acl.store(&acl, std::memory_order_release);
	}
	/// SIGHUP reload: query logging on or off.
	void setLogQueries(bool on)
	{
		_logQueries.store(on, std::memory_order_relaxed);
	}

	uint64_t pending() const
	{
		return _pending.load(std::memory_order_relaxed);
	}

	/// Fleet (SPEC 4b): a shared tier asked on a local cache miss before the upstream, and given
	/// every upstream answer the local cache admitted. Optional (null = off); needs the local
	/// cache; set during wiring, before the first query; must outlive the pipeline's queries.
	void setSecondLevelCache(SecondLevelCache* secondLevel)
	{
		_secondLevel = secondLevel;
	}

private:
	struct Request;
	class StaleTimer;
	void complete(Request& request, upstream::UpstreamResult&& result);
	/// Client-facing form of an upstream or cached answer (see the class comment).
	std::vector<uint8_t> shape(std::vector<uint8_t>&& message, const Request& request) const;
	/// The same, in place. `fromCache`: the message came from PacketCache (OPT last, see CacheHit).
	void shapeInPlace(std::vector<uint8_t>& message, const uint8_t* query, size_t queryLength,
					  const dns::MessageInfo& q, frontend::Transport transport, bool fromCache) const;
	/// The OPT of an answer for this client and transport (see shapeInPlace's comment in the .cpp).
	void shapeEdns(std::vector<uint8_t>& message, const dns::MessageInfo& q, const dns::MessageInfo& a,
				   frontend::Transport transport, bool fromCache) const;
	/// When query logging is on: one line naming client, transport, name and type.
	void logQuery(const frontend::RawQuery& raw, const dns::MessageInfo& info);
	/// handleRaw() once the query is admitted and parsed: a fresh cache hit is answered into `out`
	/// (true); anything else goes to the shared tier or the upstreams and is answered later (false).
	bool resolve(const frontend::RawQuery& raw, const dns::MessageInfo& info, std::vector<uint8_t>& out,
				 frontend::ResponderFactory& later);
	/// handleRaw()'s immediate answer: moved into `out` and counted; returns true.
	bool answerAtOnce(std::vector<uint8_t>& out, std::vector<uint8_t>&& message);
	/// answerAtOnce() with an error answer made from the header and the first question only
	/// (dns::parseQuestion): for queries that are turned away before they are parsed.
	bool answerWithQuestion(std::vector<uint8_t>& out, const uint8_t* query, size_t length, uint8_t rcode);
	void countAnswer(const std::vector<uint8_t>& message);
	/// Answers from the cache (fresh or stale, never a cached SERVFAIL) unless already answered;
	/// false when the cache has nothing servable.
	bool answerFromCache(Request& request);
	void prefetch(const std::vector<uint8_t>& query, const std::string& key);
	/// From the pending limit on: upstream, with the stale-answer timer when a stale entry exists.
	void forward(const std::shared_ptr<Request>& request, bool staleAvailable);
	/// Serves a second-level hit if the local cache admits it for the request's key.
	bool answerFromSecondLevel(Request& request, std::vector<uint8_t>&& message);
	void answer(frontend::Responder& responder, std::vector<uint8_t>&& message);

	PipelineSettings _settings;
	std::atomic<const frontend::ClientAcl*> _acl;
	std::atomic<bool> _logQueries;
	upstream::UpstreamClient& _upstream;
	stats::FrontendStats& _stats;
	cache::PacketCache* _cache;
	std::atomic<uint64_t> _pending{0};
	SourceShares _shares; ///< each source's share of maxPending
	Poco::Logger& _queryLogger;
	std::unique_ptr<StaleTimer> _staleTimer; ///< only with a cache that serves stale
	SecondLevelCache* _secondLevel = nullptr;
};

} // namespace dnsproxy::pipeline
