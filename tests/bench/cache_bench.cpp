// cache_bench.cpp - micro-benchmark: PacketCache hit lookups per second, one thread and two (not a timed test).
#include "cache/PacketCache.h"

#include "dns/Constants.h"
#include "dns/Message.h"
#include "support/PacketBuilder.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace dnsproxy;

namespace
{

constexpr int NAMES = 10000;

std::vector<uint8_t> answerFor(const std::string& name)
{
	test::PacketBuilder b;
	b.header(0, 0x8180, 1, 2, 0, 1).question(name, dns::Type::A);
	b.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, 300, 4).bytes({192, 0, 2, 1});
	b.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, 300, 4).bytes({192, 0, 2, 2});
	b.opt(1232, false);
	return b.data();
}

std::string keyFor(const std::string& name)
{
	test::PacketBuilder b;
	b.header(1, 0x0100, 1, 0, 0, 1).question(name, dns::Type::A).opt(1232, false);
	dns::MessageInfo info;
	dns::parseMessage(b.data().data(), b.size(), info);
	std::string key;
	cache::CacheKey::fromQuery(b.data().data(), info, key);
	return key;
}

/// Runs `threads` threads doing hit lookups round-robin over the keys for `seconds`.
double lookupsPerSecond(cache::PacketCache& cache, const std::vector<std::string>& keys, int threads, double seconds)
{
	std::atomic<bool> stop{false};
	std::atomic<uint64_t> total{0};
	std::vector<std::thread> workers;
	const auto start = std::chrono::steady_clock::now();
	for (int t = 0; t < threads; ++t)
	{
		workers.emplace_back([&, t] {
			uint64_t done = 0;
			size_t i = static_cast<size_t>(t) * 7919;
			while (!stop.load(std::memory_order_relaxed))
			{
				for (int n = 0; n < 1000; ++n)
				{
					auto hit = cache.lookup(keys[i++ % keys.size()]);
					if (!hit || !hit->fresh)
						std::abort(); // every lookup must be a hit
				}
				done += 1000;
			}
			total += done;
		});
	}
	std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
	stop = true;
	for (auto& worker : workers)
		worker.join();
	const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	return static_cast<double>(total.load()) / elapsed;
}

} // namespace

int main(int argc, char** argv)
{
	const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
	cache::CacheSettings settings;
	settings.prefetch = false; // the clock stands still relative to the TTL anyway
	cache::PacketCache cache(settings);
	std::vector<std::string> keys;
	for (int i = 0; i < NAMES; ++i)
	{
		const std::string name = "host" + std::to_string(i) + ".bench.example.com";
		const auto answer = answerFor(name);
		keys.push_back(keyFor(name));
		if (!cache.insert(keys.back(), answer.data(), answer.size()))
			return 1;
	}
	std::printf("cache-bench: %d entries, answers of %zu bytes (2 A + OPT), %.1f s per run\n", NAMES,
				answerFor("host0.bench.example.com").size(), seconds);
	for (int threads : {1, 2})
	{
		const double rate = lookupsPerSecond(cache, keys, threads, seconds);
		std::printf("hit lookups, %d thread%s: %.0f per second (%.2f M/s)\n", threads, threads == 1 ? "" : "s", rate,
					rate / 1e6);
	}
	return 0;
}
