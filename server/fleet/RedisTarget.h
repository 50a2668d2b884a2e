// RedisTarget.h - which Redis node the fleet talks to right now, and how (TLS context, credentials).
#pragma once

#include "fleet/RedisUrl.h"

#include <Poco/Net/Context.h>

#include <mutex>
#include <optional>
#include <string>

namespace dnsproxy::fleet
{

/// The URL plus what changes at run time: for a Sentinel URL the master's address, as last
/// reported by a Sentinel (set by the prober, or on +switch-master); for the other schemes the
/// URL's own host. For rediss:// it also owns the client TLS context: chain checked against
/// `caFile` (a failed chain is refused, never prompted for); RedisConnection checks the peer
/// certificate against the URL's host name or IP address.
///
/// Threading: endpoint() and setEndpoint() from any thread (`_mutex`); the rest is immutable.
class RedisTarget
{
public:
	/// Throws Poco::Exception when the TLS context cannot be made (unreadable CA file).
	RedisTarget(RedisUrl url, const std::string& caFile);

	const RedisUrl& url() const
	{
		return _url;
	}
	/// Null unless rediss://.
	Poco::Net::Context::Ptr tlsContext() const
	{
		return _tls;
	}
	/// The node to connect to; nullopt while a Sentinel URL has no master yet.
	std::optional<RedisEndpoint> endpoint() const;
	/// True when it changed.
	bool setEndpoint(const RedisEndpoint& endpoint);
	/// "127.0.0.1:6379", or "master m (127.0.0.1:6380) via sentinel ..." for logs and /stats.
	std::string describe() const;

private:
	const RedisUrl _url;
	Poco::Net::Context::Ptr _tls;
	mutable std::mutex _mutex;
	std::optional<RedisEndpoint> _endpoint;
};

} // namespace dnsproxy::fleet
