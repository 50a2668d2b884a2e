// UnixClock.h - the wall clock in whole unix seconds, as every component that stamps or expires data takes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace dnsproxy::stats
{

/// Unix time in seconds. The cache (TTL ageing), its persistence (purge cut-off), the pin manager
/// (first/last seen) and the admin router (log stamps) take one, so tests drive time with a fake.
/// Standard library only: any layer may include it.
using UnixClock = std::function<int64_t()>;

/// The system's wall clock in unix seconds.
inline int64_t unixNow()
{
	return static_cast<int64_t>(
		std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

/// `clock` itself, or the system clock when it is empty (the components' default argument).
inline UnixClock orSystemClock(UnixClock clock)
{
	return clock ? std::move(clock) : UnixClock(unixNow);
}

} // namespace dnsproxy::stats
