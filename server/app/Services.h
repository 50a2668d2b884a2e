// Services.h - every long-lived part of a running dnsproxy, built, started and stopped in one order.
#pragma once

#include "app/Config.h"
#include "app/Privileges.h"
#include "cache/CacheSettings.h"
#include "common/Error.h"
#include "frontend/ClientAcl.h"
#include "stats/StatsSnapshot.h"
#include "upstream/UpstreamSettings.h"

#include <Poco/Net/Context.h>

#include <ctime>
#include <memory>
#include <mutex>
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
struct FrontendSettings;
namespace tls
{
class TlsServerContext;
struct TlsServerSettings;
} // namespace tls
} // namespace dnsproxy::frontend
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
/// reload() (SIGHUP) applies a new, validated configuration to the running parts; see there.
///
/// Threading: open(), start(), reload() and stop() are called from the main thread only. What a
/// reload changes is read by other threads through atomics (UpstreamPool's roster, the pipeline's
/// ACL, the cache's TTL policy, the pin policy) or swapped whole (front end, admin server); the
/// reload record for /stats is guarded by `_reloadMutex`.
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

	/// SIGHUP (SPEC 2): applies `next` (validated by ConfigLoader) to the running process, or
	/// changes nothing and throws StartError naming the key (the CA file, a listen address, the
	/// admin address). Everything that can fail (the CA bundle, binding
	/// changed listeners) is done first; then the upstream pool (servers that stay keep their
	/// connections), pins and pin policy, ACL, query logging, the cache's TTL policy (entries
	/// kept), the front end when a listener key changed (the new one binds beside the old through
	/// SO_REUSEPORT, then the old one stops) and the admin server when its address or token
	/// changed. Keys that need a restart keep their running value; their names are returned.
	std::vector<std::string> reload(const Config& next);

	/// Records a reload attempt for /stats: "ok", or "failed: <the one line>".
	void recordReload(std::time_t when, const std::string& result);

	/// The configuration running now (after the last successful reload).
	const Config& config() const
	{
		return _config;
	}

	/// What the privilege drop did ("privileges: ..."), empty when there was nothing to say.
	const std::string& privilegesLine() const
	{
		return _privileges;
	}

	/// The first upstream's URL, for the start-up lines (SPEC section 2).
	std::string upstreamTarget() const;

	/// Lines about the encrypted listeners' certificate (file or self-signed, its SPKI pin) for the
	/// start-up log; empty when there is no encrypted listener.
	std::vector<std::string> certificateLines() const;

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
	frontend::FrontendSettings frontendSettings(const Config& config) const;
	/// The key a front end's BindError is about: server.listen, tls_listen or https_listen.
	static std::string listenKeyOf(const std::string& bindError);
	std::unique_ptr<admin::AdminServer> makeAdmin(const Config& config);
	Poco::Net::Context::Ptr makeContext(const TlsConfig& tls) const;
	/// The certificate settings of the encrypted listeners (ServicesTls.cpp).
	frontend::tls::TlsServerSettings serverTlsSettings(const Config& config) const;
	/// Loads (or makes, self-signed) the encrypted listeners' certificate; throws StartError.
	void openServerTls();
	/// SIGHUP: the certificate files read again; throws StartError and keeps the old one on failure.
	void reloadServerTls(const Config& next);

	/// Modification time of `path`, 0 when it cannot be read: a CA bundle replaced in place is
	/// loaded again by a reload even when the configuration names the same file.
	static std::time_t modified(const std::string& path);

	/// What a reload built before changing anything (ServicesReload.cpp).
	struct PreparedReload
	{
		Poco::Net::Context::Ptr context;
		std::time_t caFileChanged = 0;
		std::unique_ptr<frontend::Frontend> frontend; ///< null: the listeners stay
		bool adminMoved = false;                      ///< another address (or none)
		bool adminChanged = false;                    ///< address or token
		std::unique_ptr<admin::AdminServer> admin;    ///< bound when the address moved
	};
	std::vector<std::string> keepRestartOnlyKeys(Config& next) const;
	PreparedReload prepareReload(const Config& next);
	std::unique_ptr<frontend::Frontend> rebindFrontend(const Config& next);
	void applyReload(const Config& next, PreparedReload prepared);
	void replaceAdmin(const Config& next, PreparedReload& prepared);

	Config _config;
	MappedSettings _mapped;
	std::time_t _caFileChanged = 0; ///< modification time of the CA file when it was loaded
	mutable std::mutex _reloadMutex;
	stats::StatsSnapshot::Reload _reload; ///< guarded by _reloadMutex
	/// Every ACL a reload set, kept until the end: a worker may still read an older one
	/// (QueryPipeline::setAcl).
	std::vector<std::unique_ptr<frontend::ClientAcl>> _reloadedAcls;
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
	/// The encrypted listeners' certificate and TLS settings; null without tls_listen/https_listen.
	std::shared_ptr<frontend::tls::TlsServerContext> _serverTls;
	std::unique_ptr<frontend::Frontend> _frontend;
	/// Front ends a reload replaced: not accepting, their open client connections still served;
	/// stop() ends them.
	std::vector<std::unique_ptr<frontend::Frontend>> _oldFrontends;
	std::unique_ptr<CachePersistence> _cachePersistence;
	std::unique_ptr<StatsCollector> _statsCollector;
	std::unique_ptr<AdminBridge> _adminBridge;
	std::unique_ptr<CacheBridge> _cacheBridge; // null while the cache is off: /cache answers 503
	std::unique_ptr<admin::AdminServer> _adminServer;
};

} // namespace dnsproxy::app
