// QueryPipeline.cpp - validation, forwarding and answer shaping.
#include "pipeline/QueryPipeline.h"

#include "dns/Constants.h"
#include "dns/Edns.h"
#include "dns/Header.h"
#include "dns/Message.h"
#include "dns/Name.h"
#include "dns/Response.h"

#include <algorithm>
#include <cstring>

namespace dnsproxy::pipeline
{

struct QueryPipeline::Request
{
	std::vector<uint8_t> query;
	dns::MessageInfo info;
	frontend::Transport transport;
	std::shared_ptr<frontend::Responder> responder;
};

QueryPipeline::QueryPipeline(const PipelineSettings& settings, const frontend::ClientAcl& acl,
							 upstream::UpstreamClient& upstream, stats::FrontendStats& stats):
	_settings(settings),
	_acl(acl),
	_upstream(upstream),
	_stats(stats),
	_queryLogger(Poco::Logger::get("dnsproxy.query"))
{
}

void QueryPipeline::answer(frontend::Responder& responder, std::vector<uint8_t>&& message)
{
	if (message.size() >= dns::HEADER_SIZE)
		_stats.countAnswer(message[3] & 0x0f);
	responder.respond(std::move(message));
}

void QueryPipeline::handleQuery(std::vector<uint8_t>&& query, const frontend::ClientInfo& client,
								std::shared_ptr<frontend::Responder> responder)
{
	auto header = dns::Header::parse(query.data(), query.size());
	if (!header || header->qr())
	{
		// No header at all: nothing to answer to. An answer sent to our listener: never reply to it
		// (that would let two servers bounce messages at each other).
		stats::bump(_stats.malformed);
		responder->drop();
		return;
	}
	auto request = std::make_shared<Request>();
	dns::ParseError error = dns::parseMessage(query.data(), query.size(), request->info);
	if (error != dns::ParseError::NONE)
	{
		stats::bump(_stats.malformed);
		answer(*responder, dns::makeErrorResponse(query.data(), query.size(), nullptr, dns::Rcode::FORMERR));
		return;
	}
	const dns::MessageInfo& info = request->info;
	if (!_acl.allows(client.address))
	{
		stats::bump(_stats.refusedByAcl);
		answer(*responder, dns::makeErrorResponse(query.data(), query.size(), &info, dns::Rcode::REFUSED));
		return;
	}
	if (info.header.opcode() != dns::Opcode::QUERY)
	{
		answer(*responder, dns::makeErrorResponse(query.data(), query.size(), &info, dns::Rcode::NOTIMP));
		return;
	}
	if (_settings.logQueries && _queryLogger.information())
	{
		_queryLogger.information("%s %s %s type %hu", client.address.toString(),
								 std::string(client.transport == frontend::Transport::UDP ? "udp" : "tcp"),
								 dns::nameToString(query.data() + info.qnameOffset, info.qnameLength), info.qtype);
	}
	if (_pending.fetch_add(1, std::memory_order_relaxed) >= _settings.maxPending)
	{
		_pending.fetch_sub(1, std::memory_order_relaxed);
		stats::bump(_stats.overLimit);
		answer(*responder, dns::makeErrorResponse(query.data(), query.size(), &info, dns::Rcode::REFUSED));
		return;
	}
	request->transport = client.transport;
	request->responder = std::move(responder);
	std::vector<uint8_t> upstreamQuery = query;
	request->query = std::move(query);
	_upstream.resolve(std::move(upstreamQuery),
					  [this, request](upstream::UpstreamResult&& result) { complete(*request, std::move(result)); });
}

void QueryPipeline::complete(Request& request, upstream::UpstreamResult&& result)
{
	_pending.fetch_sub(1, std::memory_order_relaxed);
	const dns::MessageInfo& q = request.info;
	if (result.status != upstream::UpstreamResult::Status::OK)
	{
		answer(*request.responder,
			   dns::makeErrorResponse(request.query.data(), request.query.size(), &q, dns::Rcode::SERVFAIL));
		return;
	}
	std::vector<uint8_t> message = std::move(result.answer);
	dns::MessageInfo a;
	if (dns::parseMessage(message.data(), message.size(), a, true) != dns::ParseError::NONE)
	{
		answer(*request.responder,
			   dns::makeErrorResponse(request.query.data(), request.query.size(), &q, dns::Rcode::SERVFAIL));
		return;
	}
	// The question comes back exactly as the client wrote it, letter case included (0x20).
	if (a.header.qdcount == 1 && !a.qnameCompressed && !q.qnameCompressed && a.qnameLength == q.qnameLength &&
		a.qnameOffset == q.qnameOffset)
		std::memcpy(message.data() + a.qnameOffset, request.query.data() + q.qnameOffset, q.qnameLength);

	// EDNS: a client without EDNS gets no OPT; options the client did not send (padding, keepalive)
	// are the proxy's business with its upstream and do not leak.
	if (a.edns.present)
	{
		std::optional<std::vector<uint8_t>> rewritten;
		if (!q.edns.present)
			rewritten = dns::removeOpt(message.data(), message.size());
		else if ((a.edns.hasPadding && !q.edns.hasPadding) || (a.edns.hasKeepalive && !q.edns.hasKeepalive))
		{
			std::vector<uint16_t> drop;
			if (!q.edns.hasPadding)
				drop.push_back(dns::EdnsOptionCode::PADDING);
			if (!q.edns.hasKeepalive)
				drop.push_back(dns::EdnsOptionCode::TCP_KEEPALIVE);
			rewritten = dns::rewriteOpt(message.data(), message.size(), _settings.udpPayloadSize, drop, {});
		}
		if (rewritten)
			message = std::move(*rewritten);
	}

	if (request.transport == frontend::Transport::UDP)
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
	answer(*request.responder, std::move(message));
}

} // namespace dnsproxy::pipeline
