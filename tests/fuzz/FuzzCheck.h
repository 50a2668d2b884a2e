// FuzzCheck.h - what the fuzz targets share: the invariant check (print what broke and abort, so
// that libFuzzer or the standalone replay runner reports the input as a crash) and the cost oracle.
#pragma once

#include <cstdio>
#include <cstdlib>

#include <sys/resource.h>

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

/// User CPU time of the calling thread in ms: what the code under test spends, whatever else the
/// machine runs (wall time sees other processes' bursts) and whatever the kernel does for the
/// allocator (an ASan build's page faults and unmaps come in bursts of a few hundred ms).
inline double threadCpuMs()
{
	rusage usage{};
	getrusage(RUSAGE_THREAD, &usage);
	return static_cast<double>(usage.ru_utime.tv_sec) * 1e3 + static_cast<double>(usage.ru_utime.tv_usec) / 1e3;
}

/// Cost oracle for libFuzzer runs, whose -timeout counts whole seconds only: one per
/// LLVMFuzzerTestOneInput call; when DNSPROXY_FUZZ_MAX_MS is set (scripts/fuzz sets it), an input
/// that took more user CPU time than that aborts as a crash, so a parse that turns quadratic (issue 15:
/// 100 ms for one 64 KB message) is found like any other bug and its input saved. Unset: costs
/// one clock read. The standalone replay runner times each corpus file itself (--max-ms).
class CostGuard
{
public:
	CostGuard():
		_start(threadCpuMs())
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
		const double took = threadCpuMs() - _start;
		if (took > static_cast<double>(limitMs))
		{
			std::fprintf(stderr, "invariant violated: input took %.0f ms of user CPU (DNSPROXY_FUZZ_MAX_MS=%ld)\n",
						 took, limitMs);
			std::abort();
		}
	}
	CostGuard(const CostGuard&) = delete;
	CostGuard& operator=(const CostGuard&) = delete;

private:
	double _start;
};

} // namespace dnsproxy::fuzz
