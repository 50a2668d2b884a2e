// CapturingResponder.h - a frontend::Responder for pipeline tests that keeps every answer it is given.
#pragma once

#include "frontend/QueryHandler.h"

#include <cstdint>
#include <mutex>
#include <vector>

namespace dnsproxy::test
{

/// Records the answers a QueryHandler sends back for one query, in order; drop() is ignored.
/// Threading: respond() may come from an upstream thread while the test reads; one mutex guards
/// the answers.
class CapturingResponder: public frontend::Responder
{
public:
	void respond(std::vector<uint8_t>&& answer) override;
	void drop() override;

	/// How many answers have arrived.
	size_t count() const;
	/// Answer i (0 = first).
	std::vector<uint8_t> answer(size_t i = 0) const;

private:
	mutable std::mutex _mutex;
	std::vector<std::vector<uint8_t>> _answers;
};

} // namespace dnsproxy::test
