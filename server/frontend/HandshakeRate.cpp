// HandshakeRate.cpp - the per-source token buckets of the encrypted listeners.
#include "frontend/HandshakeRate.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace dnsproxy::frontend
{

HandshakeRate::HandshakeRate(uint32_t perSecond, size_t maxSources):
	_perSecond(perSecond),
	_maxSources(std::max<size_t>(1, maxSources))
{
}

std::string HandshakeRate::sourceKey(const sockaddr* peer)
{
	if (peer->sa_family == AF_INET6)
	{
		const auto* v6 = reinterpret_cast<const sockaddr_in6*>(peer);
		return std::string(reinterpret_cast<const char*>(v6->sin6_addr.s6_addr), 8); // the /64
	}
	const auto* v4 = reinterpret_cast<const sockaddr_in*>(peer);
	return std::string(reinterpret_cast<const char*>(&v4->sin_addr.s_addr), 4);
}

bool HandshakeRate::allow(const sockaddr* peer, Clock::time_point now)
{
	if (_perSecond <= 0)
		return true;
	const std::string key = sourceKey(peer);
	std::lock_guard<std::mutex> lock(_mutex);
	auto it = _buckets.find(key);
	if (it == _buckets.end())
	{
		if (_buckets.size() >= _maxSources)
			prune(now);
		it = _buckets.emplace(key, Bucket{_perSecond, now}).first;
	}
	Bucket& bucket = it->second;
	const double elapsed = std::chrono::duration<double>(now - bucket.refilled).count();
	bucket.tokens = std::min(_perSecond, bucket.tokens + std::max(0.0, elapsed) * _perSecond);
	bucket.refilled = now;
	if (bucket.tokens < 1)
		return false;
	bucket.tokens -= 1;
	return true;
}

void HandshakeRate::prune(Clock::time_point now)
{
	// Full buckets carry no information: forget them. Otherwise drop the least recently refilled.
	for (auto it = _buckets.begin(); it != _buckets.end();)
	{
		const double elapsed = std::chrono::duration<double>(now - it->second.refilled).count();
		if (it->second.tokens + elapsed * _perSecond >= _perSecond)
			it = _buckets.erase(it);
		else
			++it;
	}
	// Still full (a flood from many sources): drop an eighth, whichever they are, so that the next
	// prune is that many new sources away and the cost per accept stays constant on average.
	for (size_t n = _buckets.size() >= _maxSources ? _maxSources / 8 + 1 : 0; n > 0 && !_buckets.empty(); --n)
		_buckets.erase(_buckets.begin());
}

size_t HandshakeRate::sources() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _buckets.size();
}

} // namespace dnsproxy::frontend
