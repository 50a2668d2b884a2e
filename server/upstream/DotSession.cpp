// DotSession.cpp - ID remapping, answer matching, timeouts and the retry rule of one upstream stream.
#include "upstream/DotSession.h"

#include "dns/Edns.h"
#include "dns/Header.h"

#include <optional>

namespace dnsproxy::upstream
{

DotSession::DotSession(uint32_t maxInflight, stats::UpstreamStats& stats, IdSource ids, FaultSink faults):
	_maxInflight(maxInflight),
	_stats(stats),
	_ids(std::move(ids)),
	_faults(std::move(faults))
{
}

void DotSession::enqueue(Pending&& pending)
{
	_waiting.push_back(std::move(pending));
}

void DotSession::finish(Pending& pending, UpstreamResult::Status status, std::vector<uint8_t>&& answer, bool silent)
{
	_load.fetch_sub(1, std::memory_order_relaxed);
	Callback done = std::move(pending.done);
	pending.done = nullptr;
	if (done)
		done(UpstreamResult{status, std::move(answer), silent});
}

uint16_t DotSession::freshId()
{
	uint16_t id;
	do
		id = _ids();
	while (_inflight.count(id) != 0);
	return id;
}

size_t DotSession::sendWaiting(std::vector<uint8_t>& output, Clock::time_point now, size_t limit)
{
	size_t sent = 0;
	while (!_waiting.empty() && _inflight.size() < _maxInflight && sent < limit)
	{
		Pending pending = std::move(_waiting.front());
		_waiting.pop_front();
		std::vector<uint8_t> frame = dns::TcpFramer::frame(pending.query.data(), pending.query.size());
		if (frame.size() < 2 + dns::HEADER_SIZE)
		{
			// Longer than a 2-byte prefix can carry (or no message): it cannot go on a stream.
			stats::bump(_stats.failures);
			finish(pending, UpstreamResult::Status::FAILED);
			continue;
		}
		const uint16_t id = freshId();
		const size_t base = output.size();
		output.insert(output.end(), frame.begin(), frame.end());
		dns::writeId(output.data() + base + 2, id);
		pending.sent = now;
		_inflight.emplace(id, std::move(pending));
		stats::bump(_stats.queries);
		++sent;
	}
	return sent;
}

bool DotSession::received(const uint8_t* data, size_t length, Clock::time_point now,
						  const std::function<void(const dns::MessageInfo&)>& onAnswer)
{
	_framer.append(data, length);
	for (;;)
	{
		switch (_framer.next(_message))
		{
		case dns::TcpFramer::Status::NEED_MORE:
			return true;
		case dns::TcpFramer::Status::ZERO_LENGTH:
			_message.clear(); // shorter than a header, as any message under 12 octets
			[[fallthrough]];
		case dns::TcpFramer::Status::FRAME:
			if (!handleAnswer(_message, now, onAnswer))
				return false;
			break;
		}
	}
}

bool DotSession::handleAnswer(const std::vector<uint8_t>& message, Clock::time_point now,
							  const std::function<void(const dns::MessageInfo&)>& onAnswer)
{
	_lastReceive = now;
	_streamSpoke = true;
	const uint8_t* data = message.data();
	const size_t length = message.size();
	if (length < dns::HEADER_SIZE)
	{
		stats::bump(_stats.badAnswers);
		_faults("answer shorter than a DNS header; dropping the connection", "");
		return false;
	}
	auto it = _inflight.find(dns::readId(data));
	if (it == _inflight.end())
	{
		// Usually the late answer to a query that already timed out: ignored, the stream stays.
		stats::bump(_stats.badAnswers);
		_faults("answer with an unknown ID ignored", "");
		return true;
	}
	Pending& pending = it->second;
	dns::MessageInfo info;
	const AnswerVerdict verdict = checkAnswer(pending.query.data(), pending.question, data, length, info);
	const char* problem = verdict == AnswerVerdict::OK ? nullptr : toString(verdict);
	std::optional<std::vector<uint8_t>> cleaned;
	if (!problem && dns::hasOption(data, info.edns, dns::clientPrivateOptions()))
	{
		// We never send ECS or a cookie: one in an answer is for no client, and is not cached (SPEC 4).
		cleaned = dns::rewriteOpt(data, length, info, dns::DEFAULT_UDP_PAYLOAD_SIZE, dns::clientPrivateOptions(), {});
		if (!cleaned)
			problem = "private_option_not_removable";
	}
	if (problem)
	{
		// Our ID on a message that is not the answer to this query (QR=0, another opcode or
		// question, records without a question, unparsable): the stream is broken or spoofed.
		// Waiting for the deadline would only delay the client; retry once on a fresh stream.
		stats::bump(_stats.badAnswers);
		_faults("answer does not fit its query; dropping the connection", problem);
		return false;
	}
	if (onAnswer)
		onAnswer(info);
	_stats.latency.record(std::chrono::duration<double, std::milli>(now - pending.sent).count());
	std::vector<uint8_t> answer = cleaned ? std::move(*cleaned) : message;
	dns::writeId(answer.data(), dns::readId(pending.query.data()));
	Pending done = std::move(pending);
	_inflight.erase(it);
	stats::bump(_stats.answers);
	finish(done, UpstreamResult::Status::OK, std::move(answer));
	return true;
}

bool DotSession::expire(Clock::time_point now)
{
	for (auto it = _waiting.begin(); it != _waiting.end();)
	{
		if (it->deadline <= now)
		{
			stats::bump(_stats.timeouts);
			finish(*it, UpstreamResult::Status::TIMEOUT);
			it = _waiting.erase(it);
		}
		else
			++it;
	}
	bool silent = false;
	for (auto it = _inflight.begin(); it != _inflight.end();)
	{
		if (it->second.deadline <= now)
		{
			// Nothing at all received since this query went out: the stream is probably half-open.
			const bool nothingSince = _lastReceive < it->second.sent;
			silent = silent || nothingSince;
			stats::bump(_stats.timeouts);
			finish(it->second, UpstreamResult::Status::TIMEOUT, {}, nothingSince && _streamSpoke);
			it = _inflight.erase(it);
		}
		else
			++it;
	}
	return silent;
}

void DotSession::lost(Loss loss)
{
	_framer = dns::TcpFramer();
	std::vector<Pending> retry;
	for (auto& [id, pending] : _inflight)
	{
		// A graceful close is the server's habit, not the query's failure: the query goes on the next
		// stream whatever happened to it before, and expire() ends it at its deadline. Each such
		// close comes after an answer on the stream, so the retries cannot spin without progress.
		if (loss == Loss::GRACEFUL || (loss == Loss::BROKEN && !pending.retried))
		{
			pending.retried = pending.retried || loss == Loss::BROKEN;
			stats::bump(_stats.retries);
			retry.push_back(std::move(pending));
		}
		else
		{
			stats::bump(_stats.failures);
			finish(pending, UpstreamResult::Status::FAILED);
		}
	}
	_inflight.clear();
	for (auto it = retry.rbegin(); it != retry.rend(); ++it)
		_waiting.push_front(std::move(*it));
}

void DotSession::failWaiting(bool countFailures)
{
	while (!_waiting.empty())
	{
		if (countFailures)
			stats::bump(_stats.failures);
		finish(_waiting.front(), UpstreamResult::Status::FAILED);
		_waiting.pop_front();
	}
}

DotSession::Clock::time_point DotSession::nextDeadline(Clock::time_point limit) const
{
	Clock::time_point next = limit;
	for (const auto& pending : _waiting)
		next = std::min(next, pending.deadline);
	for (const auto& [id, pending] : _inflight)
		next = std::min(next, pending.deadline);
	return next;
}

} // namespace dnsproxy::upstream
