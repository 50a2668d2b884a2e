// CapturingResponder.cpp - a frontend::Responder for pipeline tests that keeps every answer.
#include "support/CapturingResponder.h"

#include <utility>

namespace dnsproxy::test
{

void CapturingResponder::respond(std::vector<uint8_t>&& answer)
{
	std::lock_guard<std::mutex> lock(_mutex);
	_answers.push_back(std::move(answer));
}

void CapturingResponder::drop()
{
}

size_t CapturingResponder::count() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _answers.size();
}

std::vector<uint8_t> CapturingResponder::answer(size_t i) const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _answers.at(i);
}

} // namespace dnsproxy::test
