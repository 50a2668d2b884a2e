// UpstreamClient.h - what the pipeline needs from the upstream side: send a query, get a result later.
#pragma once

#include "dns/Message.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace dnsproxy::upstream
{

/// Outcome of one upstream exchange. A timeout or a lost upstream is a value, not an exception.
struct UpstreamResult
{
	enum class Status
	{
		OK,      ///< `answer` holds the server's answer, with the client's ID restored
		TIMEOUT, ///< no answer within the budget
		FAILED   ///< no server could be reached (connect, TLS or verification failure, connection lost twice)
	};

	Status status = Status::FAILED;
	std::vector<uint8_t> answer;
	/// TIMEOUT on a stream that had carried answers and then received nothing at all since the
	/// query went out (probably half-open): the stream has been dropped, a retry goes on a fresh one.
	bool silent = false;
};

/// Asynchronous resolution. `done` is called exactly once, from an upstream thread (or, when the
/// query is refused at once, from the caller's thread).
class UpstreamClient
{
public:
	using Callback = std::function<void(UpstreamResult&&)>;

	virtual ~UpstreamClient() = default;
	virtual void resolve(std::vector<uint8_t>&& query, Callback done) = 0;
	/// The same for a query the caller has parsed already: `info` is parseMessage's summary of
	/// exactly these bytes (one question), so the upstream side need not parse them again.
	virtual void resolveParsed(std::vector<uint8_t>&& query, const dns::MessageInfo& info, Callback done)
	{
		(void)info;
		resolve(std::move(query), std::move(done));
	}
	/// True when at least one upstream is believed usable (for /health).
	virtual bool healthy() const = 0;
};

} // namespace dnsproxy::upstream
