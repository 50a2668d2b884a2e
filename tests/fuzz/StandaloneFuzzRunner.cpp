// StandaloneFuzzRunner.cpp - replays corpus files through LLVMFuzzerTestOneInput when libFuzzer is not used.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace
{

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
	LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
	return true;
}

} // namespace

int main(int argc, char** argv)
{
	if (argc < 2)
	{
		std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	size_t replayed = 0;
	for (int i = 1; i < argc; ++i)
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
	std::printf("replayed %zu inputs\n", replayed);
	return 0;
}
