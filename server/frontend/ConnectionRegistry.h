// ConnectionRegistry.h - the process-wide count of client stream connections and "close the idlest".
#pragma once

#include "frontend/RegisteredConnection.h"
#include "stats/Stats.h"

#include <cstdint>
#include <mutex>
#include <vector>

namespace dnsproxy::frontend
{

/// Decides, at accept, whether a client stream connection gets one of `maxConnections` slots,
/// for every worker loop of the front end at once (SPEC 3: max_tcp_connections).
///
/// admit(): below the limit the newcomer takes a free slot. At the limit, the idlest connection of
/// the whole process (the smallest published last activity among those published idle, not
/// already evicted) is marked evicted and asked to close on its own loop (evict()), and the
/// newcomer takes its slot at once: the count never passes the limit, although the evicted
/// socket stays open until its loop has run the close. With no idle connection the newcomer is
/// refused. A connection that takes a query between the choice and its loop running the close is
/// closed with that query unanswered; RFC 7766 section 6.2.4 clients retry, as they do after any
/// server-side close.
///
/// Counters: stats.tcpConnectionsNow moves with the count (+1 admit into a free slot, -1 when a
/// connection not evicted leaves), stats.tcpIdleClosed counts evictions. The caller counts
/// accepted and refused connections.
///
/// Threading: thread-safe. One mutex guards the members and the count; admit() scans the members
/// only at the limit (O(connections), as the single-loop listener did). evict() is called under
/// the mutex, so a connection is never evicted twice and is alive while it runs (a connection
/// leaves, under the same mutex, before it is destroyed).
class ConnectionRegistry
{
public:
	enum class Verdict
	{
		ADMITTED,             ///< a free slot
		ADMITTED_BY_EVICTION, ///< the slot of the idlest connection, which is being closed
		REFUSED               ///< at the limit and none idle; the newcomer is not a member
	};

	ConnectionRegistry(uint32_t maxConnections, stats::FrontendStats& stats);
	ConnectionRegistry(const ConnectionRegistry&) = delete;
	ConnectionRegistry& operator=(const ConnectionRegistry&) = delete;
	~ConnectionRegistry();

	/// Any thread: admits `newcomer` (published idle, last active `now`) or refuses it.
	Verdict admit(RegisteredConnection& newcomer, RegisteredConnection::Clock::time_point now);

	/// Connections holding a slot (members not evicted).
	size_t count() const;
	uint32_t limit() const
	{
		return _max;
	}

private:
	friend class RegisteredConnection;

	/// Called through RegisteredConnection::leaveRegistry().
	void leave(RegisteredConnection& connection);
	/// Under _mutex: the member to evict, or null.
	RegisteredConnection* idlest() const;

	const uint32_t _max;
	stats::FrontendStats& _stats;
	mutable std::mutex _mutex;
	std::vector<RegisteredConnection*> _members; ///< slot holders and evicted ones not closed yet
	size_t _count = 0;                           ///< members not evicted
};

} // namespace dnsproxy::frontend
