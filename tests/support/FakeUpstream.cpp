// FakeUpstream.cpp - an UpstreamClient for pipeline tests.
#include "support/FakeUpstream.h"

#include "dns/Header.h"

#include <utility>

namespace dnsproxy::test
{

FakeUpstream::FakeUpstream(AnswerFunction answerAtOnce):
	_answerAtOnce(std::move(answerAtOnce))
{
}

void FakeUpstream::resolve(std::vector<uint8_t>&& query, Callback done)
{
	std::vector<uint8_t> answer;
	if (_answerAtOnce)
		answer = _answerAtOnce(query);
	size_t call;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		call = _queries.size();
		_queries.push_back(std::move(query));
		_callbacks.push_back(std::move(done));
	}
	if (_answerAtOnce)
		complete(call, upstream::UpstreamResult::Status::OK, std::move(answer));
}

bool FakeUpstream::healthy() const
{
	return true;
}

size_t FakeUpstream::count() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _queries.size();
}

std::vector<uint8_t> FakeUpstream::query(size_t i) const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _queries.at(i);
}

void FakeUpstream::complete(size_t i, upstream::UpstreamResult::Status status, std::vector<uint8_t> answer)
{
	Callback done;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		done = std::move(_callbacks.at(i));
		if (!answer.empty())
			dns::writeId(answer.data(), dns::readId(_queries.at(i).data()));
	}
	upstream::UpstreamResult result;
	result.status = status;
	result.answer = std::move(answer);
	done(std::move(result));
}

} // namespace dnsproxy::test
