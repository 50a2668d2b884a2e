// UpstreamPool.h - the upstream servers, their persistent connections and the choice between them.
#pragma once

#include "common/WorkerThread.h"
#include "stats/Stats.h"
#include "upstream/DotConnection.h"
#include "upstream/FlightCoalescer.h"
#include "upstream/PinSource.h"
#include "upstream/UpstreamClient.h"
#include "upstream/UpstreamSelector.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Net/Context.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::upstream
{

/// Implements UpstreamClient over `connectionsPerServer` DotConnections per server.
///
/// - Each query is parsed once (or taken parsed from the caller) and made the proxy's own by
///   prepareUpstreamQuery (RD=1, the proxy's EDNS options instead of the client's private ones).
/// - Identical questions in flight (FlightCoalescer: the cache key's rule) are sent once; every
///   waiting client gets the answer with its own ID.
/// - A query is tried on one server; when the attempt times out or fails, the next server in the
///   UpstreamSelector's order is tried, so the client waits at most `timeoutMs` times the servers
///   tried. A query that timed out on a silent stream (nothing received since it was sent:
///   half-open) of the last server left gets one more try there, on a fresh connection, so the
///   only server still answers after a network change (one more `timeoutMs` at most). The
///   selector also keeps the servers' health; the pool sends the probes it asks for, with each
///   query and from its own prober thread every 250 ms (so a server's return is seen without
///   client traffic, within a second or two while every server is down). When no server is
///   usable, a query may connect during a connection's back-off (DotConnection::setLastResort).
///
/// - reconfigure() (SIGHUP reload) swaps in a new roster: the servers, their order, the strategy
///   and the per-query settings. A server that stays (same endpoint, same connection settings,
///   same TLS context) keeps its connections and counters; a new one is connected on demand.
///
/// Threading: resolve() from any thread; the retry to the next server happens in the callback of
/// the previous attempt, on that connection's I/O thread; the prober thread only sends probes.
/// reconfigure() and stop() from one thread
/// (the main thread). The current Roster is published through an atomic pointer; a query reads it
/// once and keeps using that roster (its servers and selector) until it is answered. Rosters and
/// servers are never freed before the pool, so a query in flight across a reconfigure needs no
/// reference count; a dropped server stops taking new queries at once and its connections are
/// stopped at the next reconfigure() (by then its queries have long timed out or been answered).
class UpstreamPool: public UpstreamClient
{
public:
	struct Server
	{
		/// Where the server stands in the current roster: the selector that keeps its health and
		/// its index there. Replaced as a whole by reconfigure(), so a reader never sees an index
		/// of one roster with the selector of another.
		struct Placement
		{
			const UpstreamSelector* selector = nullptr;
			size_t index = 0;
		};

		ServerEndpoint endpoint;
		stats::UpstreamStats stats;
		std::vector<std::unique_ptr<DotConnection>> connections;
		std::atomic<const Placement*> placement{nullptr};
		/// Up (not marked down by the selector) and at least one connection not backing off.
		bool usable() const;
		bool connectable() const;
	};

	/// `pins` (may be null) is asked during every handshake; it must outlive the pool. `clock` is
	/// the time source of the pool and its connections.
	UpstreamPool(const PoolSettings& settings, Poco::Net::Context::Ptr context, PinSource* pins = nullptr,
				 DotConnection::ClockSource clock = &std::chrono::steady_clock::now);
	~UpstreamPool() override;

	void resolve(std::vector<uint8_t>&& query, Callback done) override;
	void resolveParsed(std::vector<uint8_t>&& query, const dns::MessageInfo& info, Callback done) override;
	bool healthy() const override;

	/// Fails everything pending and stops every connection thread.
	void stop();

	/// What the TLS check accepts for `authName` has changed (a pin approved; pins reloaded): the
	/// servers with that name (the address when they have none; case-insensitive) are up again
	/// with no back-off, and their connections reconnect at once. Any thread. Returns how many
	/// servers of the current roster matched.
	size_t resetServers(const std::string& authName);

	/// SIGHUP reload: from now on queries use `settings` (servers, strategy, keepalive, padding,
	/// connection settings) and `context`. Servers whose endpoint, connection settings and context
	/// are unchanged keep their connections; the others are built anew and connect on demand.
	/// Call from the thread that calls stop(); never concurrently with itself.
	void reconfigure(const PoolSettings& settings, Poco::Net::Context::Ptr context);

	/// The servers of the current roster, in configured order. The pointers stay valid until the
	/// pool is destroyed.
	const std::vector<Server*>& servers() const
	{
		return _roster.load(std::memory_order_acquire)->servers;
	}
	uint64_t coalesced() const
	{
		return _flights.coalesced();
	}

private:
	struct Attempt;
	/// One generation of the configuration: immutable once published, except the selector's
	/// atomics.
	struct Roster
	{
		Roster(const PoolSettings& s, Poco::Net::Context::Ptr c);
		PoolSettings settings;
		Poco::Net::Context::Ptr context;
		UpstreamSelector selector;
		std::vector<Server*> servers;
		std::vector<Server::Placement> placements; ///< sized once, so the addresses stay put
	};

	void start(std::vector<uint8_t>&& query, const dns::MessageInfo& info, Callback done);
	void tryNext(std::shared_ptr<Attempt> attempt);
	std::vector<size_t> order(Roster& roster);
	DotConnection& pickConnection(Server& server);
	void report(Server& server, const UpstreamSelector::Change& change);
	void probeIfDue(Roster& roster, size_t index);
	void probeLoop();
	/// Sends the roster's probes that are due and tells the connections whether they are the last
	/// resort; returns which servers can connect (for the selector's order).
	std::vector<bool> checkServers(Roster& roster);
	Server* makeServer(const ServerEndpoint& endpoint, const Roster& roster);
	void publish(std::unique_ptr<Roster> roster);

	DotConnection::ClockSource _clock;
	PinSource* _pins;
	std::vector<std::unique_ptr<Server>> _owned;   ///< every server ever built
	std::vector<std::unique_ptr<Roster>> _rosters; ///< every roster ever published; the last is current
	std::atomic<Roster*> _roster{nullptr};
	std::vector<Server*> _retired; ///< dropped by the last reconfigure(); stopped by the next
	FlightCoalescer _flights;
	common::WorkerThread _prober;
};

} // namespace dnsproxy::upstream
