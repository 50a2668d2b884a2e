// SecondLevelCache.h - what the pipeline needs from a cache shared with other proxies (fleet L2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::pipeline
{

/// A second-level cache behind the local PacketCache, asked on a local miss before the upstream
/// and fed with upstream answers. The pipeline owns this interface so that it never depends on
/// how the tier is implemented (fleet/ puts Redis behind it; tests put a fake).
class SecondLevelCache
{
public:
	/// An answer (ID 0, every TTL already reduced to what remains) or nullopt for a miss.
	using Callback = std::function<void(std::optional<std::vector<uint8_t>>&&)>;

	virtual ~SecondLevelCache() = default;
	/// Calls `done` exactly once: from a background thread, or from the caller's thread at once
	/// when the tier is skipped (unreachable, overloaded). Never waits longer than its own
	/// time limit before calling it.
	virtual void lookup(const std::string& key, Callback done) = 0;
	/// An upstream answer that the local cache admitted under `key`; copied and written in the
	/// background, never on the client's critical path.
	virtual void store(const std::string& key, const uint8_t* answer, size_t len) = 0;
};

} // namespace dnsproxy::pipeline
