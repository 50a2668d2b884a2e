// LatencyHistogram.h - lock-free latency histogram with fixed buckets, for p50/p95/p99 and Prometheus.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dnsproxy::stats
{

/// Counts observations into fixed upper bounds (milliseconds). record() is wait-free and may be
/// called from any thread; readers see a consistent-enough view for percentiles.
class LatencyHistogram
{
public:
	static constexpr std::array<double, 14> BOUNDS_MS{0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
	static constexpr size_t BUCKETS = BOUNDS_MS.size() + 1; ///< the last one is +Inf

	void record(double ms)
	{
		size_t i = 0;
		while (i < BOUNDS_MS.size() && ms > BOUNDS_MS[i])
			++i;
		_counts[i].fetch_add(1, std::memory_order_relaxed);
		_sumMicros.fetch_add(static_cast<uint64_t>(ms * 1000.0), std::memory_order_relaxed);
	}

	uint64_t count(size_t bucket) const
	{
		return _counts[bucket].load(std::memory_order_relaxed);
	}
	uint64_t total() const
	{
		uint64_t n = 0;
		for (const auto& c : _counts)
			n += c.load(std::memory_order_relaxed);
		return n;
	}
	double sumMs() const
	{
		return static_cast<double>(_sumMicros.load(std::memory_order_relaxed)) / 1000.0;
	}

	/// Upper bound of the bucket holding quantile q (0 < q <= 1), linearly interpolated inside it;
	/// 0 when empty.
	double quantileMs(double q) const
	{
		uint64_t n = total();
		if (n == 0)
			return 0;
		double rank = q * static_cast<double>(n);
		uint64_t seen = 0;
		for (size_t i = 0; i < BUCKETS; ++i)
		{
			uint64_t c = count(i);
			if (c > 0 && static_cast<double>(seen + c) >= rank)
			{
				double lower = i == 0 ? 0.0 : BOUNDS_MS[i - 1];
				double upper = i < BOUNDS_MS.size() ? BOUNDS_MS[i] : BOUNDS_MS.back() * 2;
				double within = (rank - static_cast<double>(seen)) / static_cast<double>(c);
				return lower + (upper - lower) * within;
			}
			seen += c;
		}
		return BOUNDS_MS.back();
	}

private:
	std::array<std::atomic<uint64_t>, BUCKETS> _counts{};
	std::atomic<uint64_t> _sumMicros{0};
};

} // namespace dnsproxy::stats
