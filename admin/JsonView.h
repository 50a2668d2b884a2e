// JsonView.h - renders stats snapshots, pins and cache entries as Poco::JSON for the admin API.
#pragma once

#include "admin/PinAdmin.h"
#include "cache/CacheRecord.h"
#include "stats/StatsSnapshot.h"

#include <Poco/JSON/Object.h>

#include <string>
#include <vector>

namespace dnsproxy::admin
{

/// Pure functions from values to JSON objects with snake_case keys in a stable order. The layout
/// of GET /stats is documented in docs/ADMIN.md; scripts rely on it, so add keys, never rename.
class JsonView
{
public:
	static Poco::JSON::Object::Ptr stats(const stats::StatsSnapshot& snapshot);
	/// {"pins": [{"name": ..., "digests": [{"sha256", "source", "first_seen", ...}]}]}, grouped by name.
	static Poco::JSON::Object::Ptr pins(const std::vector<PinRecord>& records);
	/// {"name": ..., "entries": [{"name", "type", "class", "rcode", "ttl_remaining", "stale", ...}]}
	static Poco::JSON::Object::Ptr cacheEntries(const std::string& name,
												const std::vector<cache::CacheEntryView>& entries);
	static Poco::JSON::Object::Ptr error(const std::string& message);

	/// An object with the key order kept as inserted.
	static Poco::JSON::Object::Ptr object();
	/// Two-space indented text with a final newline, for curl users.
	static std::string toString(const Poco::JSON::Object::Ptr& object);
	/// "2024-05-01T12:00:00Z"; empty for 0.
	static std::string isoTime(int64_t unixSeconds);
};

} // namespace dnsproxy::admin
