// FakeUpstream.h - an UpstreamClient for pipeline tests: records every query, answers when told to (or at once).
#pragma once

#include "upstream/UpstreamClient.h"

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace dnsproxy::test
{

/// Stands in for the upstream pool behind a QueryPipeline. Every resolve() is recorded (query and
/// callback, in call order). By default a call is held until the test completes it with complete(),
/// so a test decides when and how the upstream answers (timeouts, SERVFAIL, late answers). Built
/// with an answer function, it completes each call at once, from inside resolve(), with Status::OK
/// and that function's answer. An OK answer always gets the query's ID, as the real pool restores it.
/// healthy() is always true.
///
/// Threading: resolve(), count(), query() and complete() may be called from any thread; one mutex
/// guards the recorded calls, and callbacks run without it held.
class FakeUpstream: public upstream::UpstreamClient
{
public:
	/// The answer to send for a query (its ID is overwritten with the query's).
	using AnswerFunction = std::function<std::vector<uint8_t>(const std::vector<uint8_t>& query)>;

	/// Holds every call until complete().
	FakeUpstream() = default;
	/// Answers every call at once with `answerAtOnce(query)`.
	explicit FakeUpstream(AnswerFunction answerAtOnce);

	void resolve(std::vector<uint8_t>&& query, Callback done) override;
	bool healthy() const override;

	/// How many calls resolve() has received.
	size_t count() const;
	/// The query of call i (0 = first).
	std::vector<uint8_t> query(size_t i) const;
	/// Completes call i with `status` and `answer`.
	void complete(size_t i, upstream::UpstreamResult::Status status, std::vector<uint8_t> answer = {});

private:
	AnswerFunction _answerAtOnce;
	mutable std::mutex _mutex;
	std::vector<std::vector<uint8_t>> _queries;
	std::vector<Callback> _callbacks;
};

} // namespace dnsproxy::test
