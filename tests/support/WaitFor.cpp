// WaitFor.cpp - bounded polling for an observable condition.
#include "support/WaitFor.h"

#include <thread>

namespace dnsproxy::test
{

bool waitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (;;)
	{
		if (predicate())
			return true;
		if (std::chrono::steady_clock::now() >= deadline)
			return predicate();
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
}

} // namespace dnsproxy::test
