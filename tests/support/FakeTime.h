// FakeTime.h - the origin of fake time for the unit tests that pass `now` to what they test.
#pragma once

#include <chrono>

namespace dnsproxy::test
{

/// A fixed steady_clock instant far from the clock's epoch: a test adds durations to it (or
/// subtracts a little), so nothing depends on when or how fast the test runs.
inline const std::chrono::steady_clock::time_point T0 = std::chrono::steady_clock::time_point(std::chrono::hours(1000));

} // namespace dnsproxy::test
