// Services.cpp - building, starting and stopping the parts of a running dnsproxy in one order.
#include "app/Services.h"

#include "admin/AdminServer.h"
#include "app/AdminBridge.h"
#include "app/CachePersistence.h"
#include "app/ConfigLoader.h"
#include "app/ConfigSettings.h"
#include "app/ConfigTable.h"
#include "app/PinManager.h"
#include "app/StatsCollector.h"
#include "cache/PacketCache.h"
#include "fleet/Fleet.h"
#include "frontend/Frontend.h"
#include "pipeline/QueryPipeline.h"
#include "stats/Stats.h"
#include "storage/Database.h"
#include "storage/PinStore.h"
#include "upstream/TlsContextFactory.h"
#include "upstream/UpstreamPool.h"

#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>

#include <unistd.h>

#include <algorithm>
#include <thread>

namespace dnsproxy::app
{

Services::Services(const Config& config, MappedSettings mapped):
	_config(config),
	_mapped(std::move(mapped))
{
}

Services::~Services()
{
	stop();
}

std::time_t Services::modified(const std::string& path)
{
	try
	{
		return Poco::File(path).getLastModified().epochTime();
	}
	catch (const Poco::Exception&)
	{
		return 0;
	}
}

void Services::open()
{
	// Least privilege (Privileges): a root-started proxy decides now whom it becomes, opens the
	// database and reads the CA bundle as root, and drops before the first thread starts.
	_root = ::geteuid() == 0;
	if (_root)
	{
		try
		{
			_account = Privileges::target(_config.server.user);
		}
		catch (const PrivilegeError& e)
		{
			throw StartError(keys::SERVER_USER.dotted() + ": " + e.what());
		}
		if (!_account)
			_stayReason = std::string("no user '") + Privileges::DEFAULT_USER + "' on this system; set " +
						  keys::SERVER_USER.bracketed();
	}
	openStorage();

	_caFileChanged = modified(_config.tls.caFile);
	_context = makeContext(_config.tls);
}

Poco::Net::Context::Ptr Services::makeContext(const TlsConfig& config) const
{
	try
	{
		upstream::TlsSettings tls;
		tls.caFile = config.caFile;
		tls.minVersion = config.minVersion;
		tls.sessionResumption = config.sessionResumption;
		return upstream::TlsContextFactory::createClientContext(tls);
	}
	catch (const Poco::Exception& e)
	{
		throw StartError(keys::TLS_CA_FILE.dotted() + ": cannot load '" + config.caFile + "': " + e.displayText());
	}
}

void Services::openStorage()
{
	// One SQLite file for the cache snapshot and the pin store (SPEC sections 4 and 5), opened even
	// with the cache switched off because the pins live there too. Database moves a corrupt file
	// aside itself; only an unusable directory stops the start.
	try
	{
		_database = std::make_unique<storage::Database>(_config.storage.path);
	}
	catch (const storage::StorageError& e)
	{
		throw StartError(keys::STORAGE_PATH.dotted() + ": " + e.what());
	}
	std::optional<Privileges::Account>& account = _account;
	if (account && account->uid != 0)
	{
		// The new user must write the database and create and delete its -wal and -shm files. The
		// folders the proxy made, and an existing folder that holds nothing but the database's own
		// files (/var/lib/dnsproxy made by an older scripts/run), are handed over; any other folder
		// (/tmp, /var/lib) is never chowned, and without write access to it the proxy stays root.
		const std::string directory = _database->directory();
		const std::string stem = Poco::Path(_config.storage.path).getBaseName();
		try
		{
			const auto& created = _database->createdDirectories();
			bool handOver = Privileges::canReach(*account, created.empty() ? directory : created.front());
			if (handOver && created.empty() && !Privileges::canWriteDirectory(*account, directory))
			{
				handOver = Privileges::holdsOnly(directory, stem);
				if (handOver && ::chown(directory.c_str(), account->uid, account->gid) != 0)
					throw storage::StorageError("cannot give '" + directory + "' to " + account->name);
			}
			if (handOver)
				_database->giveTo(account->uid, account->gid);
			else
			{
				_stayReason = "user " + account->name + " could not write " + directory;
				account.reset();
			}
		}
		catch (const storage::StorageError& e)
		{
			throw StartError(keys::STORAGE_PATH.dotted() + ": " + e.what());
		}
	}
	_pinStore = std::make_unique<storage::PinStore>(*_database);
	// Pins (SPEC section 5): configured pins, learn/enforce over the store, downgrade history.
	_pinManager = std::make_unique<PinManager>(_config.tls, _pinStore.get());
	openServerTls();
}

void Services::dropPrivileges()
{
	// Now, before the first thread (capabilities are per thread; later threads inherit them). Said
	// once everything is bound, so that a start that fails prints only its one line (SPEC 2).
	if (!_root && !_config.server.user.empty())
		_privileges = "privileges: not started as root, nothing to drop (" + keys::SERVER_USER.dotted() + " " +
					  _config.server.user + " ignored)";
	if (!_root)
		return;
	try
	{
		_privileges =
			"privileges: " + Privileges::drop(_account) + (_stayReason.empty() ? "" : " (" + _stayReason + ")");
	}
	catch (const PrivilegeError& e)
	{
		throw StartError(keys::SERVER_USER.dotted() + ": cannot drop privileges: " + e.what());
	}
}

void Services::start()
{
	startFleet();
	_frontendStats = std::make_unique<stats::FrontendStats>();
	_pool = std::make_unique<upstream::UpstreamPool>(_mapped.pool, _context, _pinManager.get());
	// An approval (POST /pins, or the fleet's) takes effect at once, not after the back-off.
	upstream::UpstreamPool& pool = *_pool;
	_pinManager->setApprovalListener([&pool](const std::string& name) { pool.resetServers(name); });
	buildPipeline();
	startFrontend();
	startPersistence();
	startAdmin();
}

void Services::startFleet()
{
	// Fleet (SPEC 4b): a cache tier and the pin store shared with other proxies through Redis.
	// Starts at once whatever Redis does; the pins Redis holds are merged in when it answers.
	// Built before the pool so that a pin event from an upstream thread always finds it.
	if (_config.fleet.redis.empty())
		return;
	auto url = fleet::RedisUrl::parse(_config.fleet.redis);
	if (!url)
		throw StartError(keys::FLEET_REDIS.dotted() + ": expected redis://, rediss:// or redis+sentinel://");
	fleet::FleetSettings fleetSettings;
	fleetSettings.url = *url;
	fleetSettings.keyPrefix = _config.fleet.keyPrefix;
	fleetSettings.timeoutMs = _config.fleet.timeoutMs;
	fleetSettings.caFile = _config.fleet.caFile.empty() ? _config.tls.caFile : _config.fleet.caFile;
	fleetSettings.secret = _config.fleet.secret;
	PinManager& pins = *_pinManager;
	try
	{
		_fleet = std::make_unique<fleet::Fleet>(fleetSettings, _mapped.cache,
												[&pins](const fleet::PinEvent& e) { pins.applyRemote(e); });
	}
	catch (const Poco::Exception& e)
	{
		throw StartError(keys::FLEET_CA_FILE.dotted() + ": cannot set up TLS for Redis: " + e.displayText());
	}
	fleet::Fleet& fleet = *_fleet;
	_pinManager->setEventSink([&fleet](const fleet::PinEvent& e) { fleet.publish(e); });
	_fleet->start();
}

void Services::buildPipeline()
{
	pipeline::PipelineSettings settings;
	settings.udpPayloadSize = _config.server.udpPayloadSize;
	settings.maxPending = _config.server.maxPending;
	settings.logQueries = _config.log.queries;
	settings.clientIdleTimeoutMs = _config.server.tcpIdleTimeoutMs;
	// The RFC 8767 client-response timer, never later than the whole upstream budget.
	settings.staleAnswerAfterMs = static_cast<uint32_t>(
		std::min<uint64_t>(pipeline::PipelineSettings::DEFAULT_STALE_ANSWER_AFTER_MS,
						   uint64_t(_config.upstream.timeoutMs) * _config.upstream.servers.size()));
	if (_config.cache.enabled)
		_cache = std::make_unique<cache::PacketCache>(_mapped.cache);
	_pipeline = std::make_unique<pipeline::QueryPipeline>(settings, _mapped.acl, *_pool, *_frontendStats, _cache.get());
	if (_fleet && _cache)
		_pipeline->setSecondLevelCache(&_fleet->cache());
}

frontend::FrontendSettings Services::frontendSettings(const Config& config) const
{
	frontend::FrontendSettings settings;
	for (const auto& address : config.server.listen)
		settings.listen.emplace_back(address.host, address.port);
	settings.udp = config.server.udp;
	settings.tcp = config.server.tcp;
	settings.threads =
		config.server.threads ? config.server.threads : std::max(1u, std::thread::hardware_concurrency());
	settings.tcpLimits.idleTimeoutMs = config.server.tcpIdleTimeoutMs;
	settings.maxTcpConnections = config.server.maxTcpConnections;
	settings.udpBatchWaitUs = config.server.udpBatchWaitUs;
	for (const auto& address : config.server.tlsListen)
		settings.tlsListen.emplace_back(address.host, address.port);
	for (const auto& address : config.server.httpsListen)
		settings.httpsListen.emplace_back(address.host, address.port);
	settings.tls = _serverTls;
	settings.doh.path = config.server.dohPath;
	settings.tcpLimits.handshakeTimeoutMs = config.server.tlsHandshakeTimeoutMs;
	settings.handshakesPerSource = config.server.tlsHandshakesPerSource;
	return settings;
}

std::string Services::listenKeyOf(const std::string& bindError)
{
	if (bindError.rfind("tls://", 0) == 0)
		return keys::SERVER_TLS_LISTEN.dotted();
	if (bindError.rfind("https://", 0) == 0)
		return keys::SERVER_HTTPS_LISTEN.dotted();
	return keys::SERVER_LISTEN.dotted();
}

void Services::startFrontend()
{
	_frontend = std::make_unique<frontend::Frontend>(frontendSettings(_config), *_pipeline, *_frontendStats);
	try
	{
		_frontend->start();
	}
	catch (const frontend::BindError& e)
	{
		throw StartError(listenKeyOf(e.what()) + ": " + e.what());
	}
}

void Services::startPersistence()
{
	// Cache write-behind (SPEC section 4, Persistence): loaded right after the front end has bound
	// its sockets (so a port in use fails before anything else is said), flushed every
	// flushIntervalMs, and once more by stop() after the front end and upstreams stop.
	if (!_cache)
		return;
	CachePersistenceSettings settings;
	settings.flushIntervalMs = _config.storage.flushIntervalMs;
	settings.keepExpiredSeconds = _config.cache.serveStale ? _config.cache.maxStale : 0;
	_cachePersistence = std::make_unique<CachePersistence>(*_database, *_cache, settings);
	_cachePersistence->loadInto();
	_cachePersistence->start();
}

void Services::buildStatsCollector()
{
	// What GET /stats and /metrics show: the front end's and the pool's counters plus one filler
	// per part that is on.
	pipeline::QueryPipeline& pipeline = *_pipeline;
	_statsCollector =
		std::make_unique<StatsCollector>(*_frontendStats, *_pool, [&pipeline] { return pipeline.pending(); });
	if (_cache)
	{
		cache::PacketCache& cache = *_cache;
		_statsCollector->addFiller([&cache](stats::StatsSnapshot& s) { cache.fillStats(s.cache); });
	}
	if (_cachePersistence)
	{
		CachePersistence& persistence = *_cachePersistence;
		_statsCollector->addFiller([&persistence](stats::StatsSnapshot& s) {
			s.cache.persisted = persistence.persisted();
			s.cache.loadSeconds = persistence.loadSeconds();
		});
	}
	PinManager& pins = *_pinManager;
	_statsCollector->addFiller([&pins](stats::StatsSnapshot& s) {
		s.pins.changesSeen = pins.changesSeen();
		s.pins.refusals = pins.refusals();
		s.pins.learned = pins.learned();
		s.pins.expiringSoon = pins.expiringSoon();
	});
	if (_fleet)
	{
		fleet::Fleet& fleet = *_fleet;
		_statsCollector->addFiller([&fleet](stats::StatsSnapshot& s) { fleet.fillStats(s.fleet); });
	}
	_statsCollector->addFiller([this](stats::StatsSnapshot& s) {
		std::lock_guard<std::mutex> lock(_reloadMutex);
		s.reload = _reload;
	});
}

void Services::startAdmin()
{
	// Admin API (SPEC section 6): started once the front end is up, stopped first at shutdown.
	buildStatsCollector();
	_adminBridge = std::make_unique<AdminBridge>(*_statsCollector, *_pool);
	if (_cache)
	{
		// DELETE /cache must empty the SQLite file too, not only at the next flush interval.
		CachePersistence* persistence = _cachePersistence.get();
		_cacheBridge = CacheBridge::over(*_cache, [persistence] {
			if (persistence)
				persistence->flushNow();
		});
	}
	_adminServer = makeAdmin(_config);
}

std::unique_ptr<admin::AdminServer> Services::makeAdmin(const Config& config)
{
	if (config.admin.listen.empty())
		return nullptr;
	admin::AdminSources sources;
	sources.stats = _adminBridge.get();
	sources.health = _adminBridge.get();
	sources.pins = _pinManager.get();
	sources.cache = _cacheBridge.get();
	admin::AdminSettings settings;
	settings.listen = config.admin.listen;
	settings.token = config.admin.token;
	settings.tokenKey = keys::ADMIN_TOKEN.bracketed();
	auto server = std::make_unique<admin::AdminServer>(settings, sources);
	try
	{
		server->start();
	}
	catch (const admin::AdminBindError& e)
	{
		throw StartError(keys::ADMIN_LISTEN.dotted() + ": " + e.what()); // nothing bound, nothing to stop
	}
	return server;
}

std::string Services::upstreamTarget() const
{
	return _pool ? _pool->servers().front()->endpoint.url() : std::string();
}

void Services::stop()
{
	if (!_database)
		return; // never opened, or already stopped: stoppedSteps() keeps what the last stop did
	_stoppedSteps.clear();
	// 1. Stop accepting.
	if (_adminServer)
	{
		_adminServer->stop();
		_adminServer.reset();
		_stoppedSteps.push_back("admin");
	}
	_cacheBridge.reset();
	_adminBridge.reset();
	_statsCollector.reset();
	if (_frontend)
	{
		_frontend->stop();
		_frontend.reset();
		_stoppedSteps.push_back("frontend");
	}
	// Front ends a reload replaced stopped accepting then; their connections close now.
	for (auto& old : _oldFrontends)
		old->stop();
	_oldFrontends.clear();
	// 2. Answer or fail what is in flight.
	if (_fleet)
	{
		_fleet->stop(); // queued lookups go upstream as misses, queued writes get one last try
		_stoppedSteps.push_back("fleet");
	}
	if (_pool)
	{
		_pool->stop();
		_stoppedSteps.push_back("upstreams");
	}
	// 3. Flush the cache to SQLite.
	if (_cachePersistence)
	{
		_cachePersistence->stop();
		const size_t written = _cachePersistence->flushNow();
		_cachePersistence.reset();
		Poco::Logger::get("dnsproxy")
			.information("cache flushed to " + _config.storage.path + " (" + std::to_string(written) + " entries)");
		_stoppedSteps.push_back("cache flush");
	}
	_pipeline.reset();
	if (_pinManager)
		_pinManager->setApprovalListener({}); // admin and fleet have stopped: nobody approves any more
	_pool.reset();
	_cache.reset();
	_fleet.reset();
	_frontendStats.reset();
	// 4. Close storage.
	if (_database)
	{
		_pinManager.reset();
		_pinStore.reset();
		_database.reset();
		_stoppedSteps.push_back("storage");
	}
}

} // namespace dnsproxy::app
