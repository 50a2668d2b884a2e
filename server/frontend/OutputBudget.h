// OutputBudget.h - bytes of answers buffered for TCP clients, all connections of the process together.
#pragma once

#include <atomic>
#include <cstddef>

namespace dnsproxy::frontend
{

/// The process-wide budget for answers that clients have not read yet (SPEC 4: "What a client
/// has buffered for it is bounded per connection and in total"). Each TcpClientConnection adds
/// what it buffers and releases it when written or when the connection closes; while the total
/// is at or above the limit, connections take no new queries unless their own buffer is empty,
/// so a client that reads its answers is still served one answer at a time (see
/// TcpClientConnection). A connection that never reads is closed by its write-stall timeout,
/// which frees its bytes.
///
/// Threading: any thread (a relaxed atomic counter).
class OutputBudget
{
public:
	explicit OutputBudget(size_t limit):
		_limit(limit)
	{
	}
	OutputBudget(const OutputBudget&) = delete;
	OutputBudget& operator=(const OutputBudget&) = delete;

	void add(size_t bytes)
	{
		_used.fetch_add(bytes, std::memory_order_relaxed);
	}
	void release(size_t bytes)
	{
		_used.fetch_sub(bytes, std::memory_order_relaxed);
	}
	/// The total has reached the limit.
	bool exhausted() const
	{
		return used() >= _limit;
	}
	size_t used() const
	{
		return _used.load(std::memory_order_relaxed);
	}
	size_t limit() const
	{
		return _limit;
	}

private:
	std::atomic<size_t> _used{0};
	const size_t _limit;
};

} // namespace dnsproxy::frontend
