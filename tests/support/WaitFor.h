// WaitFor.h - bounded polling for an observable condition, instead of sleeping in tests.
#pragma once

#include <chrono>
#include <functional>

namespace dnsproxy::test
{

/// Polls `predicate` (every millisecond or so) until it is true or `timeout` has passed; returns
/// its last value. Use it to wait for a counter or a state another thread changes (STYLE §4:
/// no sleeps as synchronisation): `CPPUNIT_ASSERT(waitFor([&] { return server.handshakes() == 1; }))`.
bool waitFor(const std::function<bool()>& predicate,
			 std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

} // namespace dnsproxy::test
