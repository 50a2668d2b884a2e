// StandaloneFuzzRunner.cpp - replays corpus files through LLVMFuzzerTestOneInput when libFuzzer is not used.
//
// Usage: fuzz_<entry> [--max-ms=N] CORPUS_DIR_OR_FILE... With --max-ms, an input that takes more
// than N ms of user CPU time fails the replay (the cost oracle: a parse that turns quadratic fails
// ctest, not only a fuzzing session); the slowest input is printed either way.
#include "FuzzCheck.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace
{

long maxMs = 0;       // 0: no cost oracle
double slowestMs = 0; // over all inputs replayed
std::string slowest;

bool replay(const std::filesystem::path& file)
{
	std::ifstream in(file, std::ios::binary);
	if (!in)
	{
		std::fprintf(stderr, "cannot read %s\n", file.string().c_str());
		return false;
	}
	const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	// A copy of exactly the file's size, so sanitizers see reads past the end as libFuzzer would.
	std::vector<uint8_t> input(bytes.begin(), bytes.end());
	const double start = dnsproxy::fuzz::threadCpuMs();
	LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
	const double took = dnsproxy::fuzz::threadCpuMs() - start;
	if (took > slowestMs)
	{
		slowestMs = took;
		slowest = file.string();
	}
	if (maxMs > 0 && took > static_cast<double>(maxMs))
	{
		std::fprintf(stderr, "slow input %s: %.1f ms of user CPU (limit %ld ms)\n", file.string().c_str(), took, maxMs);
		return false;
	}
	return true;
}

} // namespace

int main(int argc, char** argv)
{
	int first = 1;
	if (argc > 1 && std::strncmp(argv[1], "--max-ms=", 9) == 0)
	{
		maxMs = std::atol(argv[1] + 9);
		first = 2;
	}
	if (argc <= first)
	{
		std::fprintf(stderr, "usage: %s [--max-ms=N] CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	size_t replayed = 0;
	for (int i = first; i < argc; ++i)
	{
		const std::filesystem::path path(argv[i]);
		std::error_code error;
		if (std::filesystem::is_directory(path, error))
		{
			size_t inDirectory = 0;
			for (const auto& entry : std::filesystem::directory_iterator(path, error))
			{
				if (!entry.is_regular_file())
					continue;
				if (!replay(entry.path()))
					return 1;
				++inDirectory;
			}
			if (error || inDirectory == 0)
			{
				std::fprintf(stderr, "no inputs in %s\n", path.string().c_str());
				return 1;
			}
			replayed += inDirectory;
		}
		else if (std::filesystem::is_regular_file(path, error))
		{
			if (!replay(path))
				return 1;
			++replayed;
		}
		else
		{
			std::fprintf(stderr, "no such corpus %s\n", path.string().c_str());
			return 1;
		}
	}
	std::printf("replayed %zu inputs; slowest %.2f ms (%s)\n", replayed, slowestMs, slowest.c_str());
	return 0;
}
