// HandshakeRate.h - new TLS handshakes per second per client address (a token bucket per source).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dnsproxy::frontend
{

/// A handshake costs the server far more CPU than it costs a client that drops the connection
/// right after its ClientHello, so each source address (IPv6: its /64, one host's usual share)
/// gets `perSecond` new connections a second on the encrypted listeners, with bursts up to the
/// same number. The table is bounded: at maxSources entries, those whose bucket is full again are
/// forgotten; if that frees nothing, an eighth of the table is dropped (a flood from many sources
/// can neither grow memory nor make each accept scan the table). perSecond 0 allows everything.
///
/// Threading: any thread (one mutex; taken once per accepted encrypted connection only).
class HandshakeRate
{
public:
	using Clock = std::chrono::steady_clock;

	explicit HandshakeRate(uint32_t perSecond, size_t maxSources = 65536);

	/// Takes one token of `peer`'s bucket (AF_INET / AF_INET6); false when it has none.
	bool allow(const sockaddr* peer, Clock::time_point now);

	size_t sources() const;

private:
	struct Bucket
	{
		double tokens = 0;
		Clock::time_point refilled;
	};

	static std::string sourceKey(const sockaddr* peer);
	void prune(Clock::time_point now);

	const double _perSecond;
	const size_t _maxSources;
	mutable std::mutex _mutex;
	std::unordered_map<std::string, Bucket> _buckets;
};

} // namespace dnsproxy::frontend
