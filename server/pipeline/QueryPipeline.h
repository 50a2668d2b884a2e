// QueryPipeline.h - from a client's query bytes to the bytes of its answer.
#pragma once

#include "frontend/ClientAcl.h"
#include "frontend/QueryHandler.h"
#include "stats/Stats.h"
#include "upstream/UpstreamClient.h"

#include <Poco/Logger.h>

#include <atomic>
#include <cstdint>

namespace dnsproxy::pipeline
{

struct PipelineSettings
{
	uint16_t udpPayloadSize = 1232; ///< largest UDP answer sent; the client's EDNS size caps it further
	uint32_t maxPending = 10000;    ///< queries waiting for upstreams, all clients together
	bool logQueries = false;
};

/// Implements the front end's QueryHandler:
/// parse -> ACL -> opcode check -> pending limit -> upstream -> answer shaping.
/// Shaping restores what the client sent (ID, name case per the 0x20 practice), removes EDNS
/// options that only the proxy uses, and truncates UDP answers that exceed the client's size.
/// The cache will sit between the limit check and the upstream.
///
/// Threading: handleQuery() runs on front-end workers, the completion on upstream threads; the
/// only shared state is atomics.
class QueryPipeline: public frontend::QueryHandler
{
public:
	QueryPipeline(const PipelineSettings& settings, const frontend::ClientAcl& acl, upstream::UpstreamClient& upstream,
				  stats::FrontendStats& stats);

	void handleQuery(std::vector<uint8_t>&& query, const frontend::ClientInfo& client,
					 std::shared_ptr<frontend::Responder> responder) override;

	uint64_t pending() const
	{
		return _pending.load(std::memory_order_relaxed);
	}

private:
	struct Request;
	void complete(Request& request, upstream::UpstreamResult&& result);
	void answer(frontend::Responder& responder, std::vector<uint8_t>&& message);

	PipelineSettings _settings;
	const frontend::ClientAcl& _acl;
	upstream::UpstreamClient& _upstream;
	stats::FrontendStats& _stats;
	std::atomic<uint64_t> _pending{0};
	Poco::Logger& _queryLogger;
};

} // namespace dnsproxy::pipeline
