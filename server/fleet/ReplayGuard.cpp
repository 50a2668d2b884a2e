// ReplayGuard.cpp - bounded memory of applied event ids, dropped at their expiry.
#include "fleet/ReplayGuard.h"

namespace dnsproxy::fleet
{

ReplayGuard::ReplayGuard(size_t capacity):
	_capacity(capacity == 0 ? 1 : capacity)
{
}

bool ReplayGuard::firstTime(const std::string& id, int64_t expiresMs, int64_t nowMs)
{
	while (!_byExpiry.empty() && (_byExpiry.begin()->first <= nowMs || _seen.size() >= _capacity))
	{
		_seen.erase(_byExpiry.begin()->second);
		_byExpiry.erase(_byExpiry.begin());
	}
	if (!_seen.emplace(id, expiresMs).second)
		return false;
	_byExpiry.emplace(expiresMs, id);
	return true;
}

} // namespace dnsproxy::fleet
