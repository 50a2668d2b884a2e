// FuzzCheck.h - what the fuzz targets share: the invariant check (print what broke and abort, so
// that libFuzzer or the standalone replay runner reports the input as a crash) and the cost oracle.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace dnsproxy::fuzz
{

inline void check(bool condition, const char* what)
{
	if (!condition)
	{
		std::fprintf(stderr, "invariant violated: %s\n", what);
		std::abort();
	}
}

/// Cost oracle for libFuzzer runs, whose -timeout counts whole seconds only: one per
/// LLVMFuzzerTestOneInput call; when DNSPROXY_FUZZ_MAX_MS is set (scripts/fuzz sets it), an input
/// that took longer aborts as a crash, so a parse that turns quadratic (issue 15: 100 ms for one
/// 64 KB message) is found like any other bug and its input saved. Unset: costs one clock read.
/// The standalone replay runner times each corpus file itself (--max-ms).
class CostGuard
{
public:
	CostGuard():
		_start(std::chrono::steady_clock::now())
	{
	}
	~CostGuard()
	{
		static const long limitMs = [] {
			const char* text = std::getenv("DNSPROXY_FUZZ_MAX_MS");
			return text ? std::atol(text) : 0L;
		}();
		if (limitMs <= 0)
			return;
		const auto took =
			std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - _start);
		if (took.count() > limitMs)
		{
			std::fprintf(stderr, "invariant violated: input took %lld ms (DNSPROXY_FUZZ_MAX_MS=%ld)\n",
						 static_cast<long long>(took.count()), limitMs);
			std::abort();
		}
	}
	CostGuard(const CostGuard&) = delete;
	CostGuard& operator=(const CostGuard&) = delete;

private:
	std::chrono::steady_clock::time_point _start;
};

} // namespace dnsproxy::fuzz
