// ReplayGuard.h - remembers the signed pin events already applied, so a replay is refused.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

namespace dnsproxy::fleet
{

/// An event is identified by its MAC (Envelope::Opened::mac) and remembered until it expires;
/// after that Envelope refuses it as expired, so the memory is bounded by the events of one TTL.
/// Beyond `capacity` the entries closest to expiry are forgotten first.
///
/// Threading: not thread-safe; used by the pin subscriber thread only.
class ReplayGuard
{
public:
	explicit ReplayGuard(size_t capacity = 100000);

	/// True the first time `id` is seen before `expiresMs`; false for a replay.
	bool firstTime(const std::string& id, int64_t expiresMs, int64_t nowMs);
	size_t size() const
	{
		return _seen.size();
	}

private:
	size_t _capacity;
	std::unordered_map<std::string, int64_t> _seen;
	std::multimap<int64_t, std::string> _byExpiry;
};

} // namespace dnsproxy::fleet
