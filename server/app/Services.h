// Services.h - every long-lived part of a running dnsproxy, built, started and stopped in one order.
#pragma once

#include "app/Config.h"
#include "app/Privileges.h"
#include "cache/CacheSettings.h"
#include "common/Error.h"
#include "frontend/ClientAcl.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Net/Context.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::admin
{
class AdminServer;
}
namespace dnsproxy::cache
{
class PacketCache;
}
namespace dnsproxy::fleet
{
class Fleet;
}
namespace dnsproxy::frontend
{
class Frontend;
}
namespace dnsproxy::pipeline
{
class QueryPipeline;
}
namespace dnsproxy::stats
{
struct FrontendStats;
}
namespace dnsproxy::storage
{
class Database;
class PinStore;
} // namespace dnsproxy::storage
namespace dnsproxy::upstream
{
class UpstreamPool;
}

namespace dnsproxy::app
{

class AdminBridge;
class CacheBridge;
class CachePersistence;
class PinManager;
class StatsCollector;

/// A start step failed; what() is the one line the app prints before it exits 2, naming the key
/// ("<section.key>: <reason>", the names from ConfigTable's keys).
using StartError = common::Error<struct StartErrorTag>;

/// The settings DnsProxyApp maps from the configuration itself; Services maps the rest.
struct MappedSettings
{
	upstream::PoolSettings pool;
	cache::CacheSettings cache;
	frontend::ClientAcl acl;
};

/// Owns storage, the pin manager, the fleet, the upstream pool, the cache and its persistence, the
/// pipeline, the front end and the admin server (SPEC sections 2 to 6).
///
/// The single-threaded part comes first: open() opens the database and reads the CA bundle (as
/// root when started as root), then dropPrivileges() switches user (Privileges) -- before any
/// thread exists, because capabilities are per thread and drop() refuses a process with several.
/// start() then builds and starts the rest: fleet, upstream pool, pipeline, front end (binding its
/// sockets), the cache snapshot load and its flush thread, and the admin server.
///
/// stop() is the only shutdown sequence, used by SIGTERM and by every failed start alike:
///   1. stop accepting: the admin server, then the front end (its workers finish their queries);
///   2. answer or fail what is in flight: the fleet (queued lookups go upstream as misses, queued
///      writes get one last try), then the upstream pool;
///   3. flush the cache to SQLite (the flush thread joins, then one last flushNow());
///   4. close storage: the pin store and the database.
/// Parts that were never built are skipped; a second stop() does nothing. stoppedSteps() lists the
/// steps the last stop() ran, in order, for tests.
///
/// Threading: open(), start() and stop() are called from the main thread only.
class Services
{
public:
	Services(const Config& config, MappedSettings mapped);
	~Services();
	Services(const Services&) = delete;
	Services& operator=(const Services&) = delete;

	/// Opens the database (handing it to the configured user when started as root) and reads the CA
	/// bundle. Throws StartError.
	void open();

	/// After open(), before start(): a root-started proxy becomes the configured user keeping only
	/// CAP_NET_BIND_SERVICE (Privileges::drop); anyone else keeps what it has. Throws StartError.
	void dropPrivileges();

	/// Builds and starts everything that runs threads; after open(). Throws StartError; the
	/// caller then calls stop(), like after a SIGTERM.
	void start();

	/// The one shutdown order (see the class comment). Idempotent.
	void stop();

	/// What the privilege drop did ("privileges: ..."), empty when there was nothing to say.
	const std::string& privilegesLine() const
	{
		return _privileges;
	}

	/// The first upstream's URL, for the start-up lines (SPEC section 2).
	std::string upstreamTarget() const;

	/// The steps the last stop() ran, in order: "admin", "frontend", "fleet", "upstreams",
	/// "cache flush", "storage".
	const std::vector<std::string>& stoppedSteps() const
	{
		return _stoppedSteps;
	}

private:
	void openStorage();
	void startFleet();
	void buildPipeline();
	void startFrontend();
	void startPersistence();
	void buildStatsCollector();
	void startAdmin();

	const Config _config;
	const MappedSettings _mapped;
	std::vector<std::string> _stoppedSteps;
	std::string _privileges;
	bool _root = false;                          ///< started with effective uid 0
	std::optional<Privileges::Account> _account; ///< whom a root-started proxy becomes; none = stays uid 0
	std::string _stayReason;                     ///< why a root-started proxy keeps uid 0

	// Declaration order is construction order; stop() tears them down in its own defined order.
	std::unique_ptr<storage::Database> _database;
	std::unique_ptr<storage::PinStore> _pinStore;
	std::unique_ptr<PinManager> _pinManager;
	Poco::Net::Context::Ptr _context;
	std::unique_ptr<fleet::Fleet> _fleet; // before the pool: a pin event from an upstream thread finds it
	std::unique_ptr<stats::FrontendStats> _frontendStats;
	std::unique_ptr<upstream::UpstreamPool> _pool;
	std::unique_ptr<cache::PacketCache> _cache; // null when the cache is switched off
	std::unique_ptr<pipeline::QueryPipeline> _pipeline;
	std::unique_ptr<frontend::Frontend> _frontend;
	std::unique_ptr<CachePersistence> _cachePersistence;
	std::unique_ptr<StatsCollector> _statsCollector;
	std::unique_ptr<AdminBridge> _adminBridge;
	std::unique_ptr<CacheBridge> _cacheBridge; // null while the cache is off: /cache answers 503
	std::unique_ptr<admin::AdminServer> _adminServer;
};

} // namespace dnsproxy::app
