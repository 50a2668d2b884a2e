// CacheControl.h - the cache as the admin API sees it: look entries up, erase by name, flush all.
#pragma once

#include "cache/CacheRecord.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::admin
{

/// Implemented by app/ over PacketCache (and the persistence flush). Called from admin worker
/// threads concurrently with DNS traffic; implementations take the cache's own locks.
class CacheControl
{
public:
	virtual ~CacheControl() = default;
	/// Entries for `name` (any case, with or without the trailing dot), optionally of one type.
	virtual std::vector<cache::CacheEntryView> find(const std::string& name, std::optional<uint16_t> type) const = 0;
	/// Removes every entry of `name` (memory and, at the latest with the next flush, disk); returns how many.
	virtual size_t erase(const std::string& name) = 0;
	/// Flushes the whole cache, in memory and on disk.
	virtual void clear() = 0;
};

} // namespace dnsproxy::admin
