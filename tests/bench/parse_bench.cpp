// parse_bench.cpp - timing tool: parseMessage cost per message file, e.g. a pointer-chain attack vs a
// flat control of the same size (not a timed test).
//
// Usage: parse-bench FILE... (messages as written by `hostile_client.py chain --write FILE [--flat]`).
// For each file: the parse result and the median time of one parse over 21 rounds, each round the
// mean of enough parses to last about 20 ms. Uses only the parseMessage(data, len, info, true)
// call, so the same source also builds against an older server/dns for a before/after figure.
#include "dns/Message.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

using namespace dnsproxy;

namespace
{

using Clock = std::chrono::steady_clock;

int parseOnce(const std::vector<uint8_t>& msg)
{
	dns::MessageInfo info;
	return static_cast<int>(dns::parseMessage(msg.data(), msg.size(), info, true));
}

double microsecondsPerParse(const std::vector<uint8_t>& msg)
{
	// Calibrate: how many parses take about 20 ms.
	size_t batch = 1;
	for (;;)
	{
		const auto start = Clock::now();
		for (size_t i = 0; i < batch; ++i)
			parseOnce(msg);
		if (Clock::now() - start > std::chrono::milliseconds(20) || batch > (1u << 24))
			break;
		batch *= 2;
	}
	std::vector<double> rounds;
	for (int r = 0; r < 21; ++r)
	{
		const auto start = Clock::now();
		for (size_t i = 0; i < batch; ++i)
			parseOnce(msg);
		const std::chrono::duration<double, std::micro> took = Clock::now() - start;
		rounds.push_back(took.count() / static_cast<double>(batch));
	}
	std::sort(rounds.begin(), rounds.end());
	return rounds[rounds.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
	if (argc < 2)
	{
		std::fprintf(stderr, "usage: %s MESSAGE_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; ++i)
	{
		std::ifstream in(argv[i], std::ios::binary);
		if (!in)
		{
			std::fprintf(stderr, "cannot read %s\n", argv[i]);
			return 1;
		}
		const std::vector<uint8_t> msg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		const int result = parseOnce(msg);
		const double us = microsecondsPerParse(msg);
		std::printf("%-40s %6zu octets  result %d  %10.2f us/parse\n", argv[i], msg.size(), result, us);
	}
	return 0;
}
