// FuzzCheck.h - the invariant check the fuzz targets share: print what broke and abort, so that
// libFuzzer (or the standalone replay runner) reports the input as a crash.
#pragma once

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

} // namespace dnsproxy::fuzz
