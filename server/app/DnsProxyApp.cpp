// DnsProxyApp.cpp - process entry logic of dnsproxy.
#include "app/DnsProxyApp.h"

#include "admin/AdminServer.h"
#include "app/AdminBridge.h"
#include "app/CachePersistence.h"
#include "app/Config.h"
#include "app/ConfigLoader.h"
#include "app/ConfigSettings.h"
#include "app/PinManager.h"
#include "app/Privileges.h"
#include "app/StatsCollector.h"
#include "cache/PacketCache.h"
#include "fleet/Fleet.h"
#include "frontend/ClientAcl.h"
#include "frontend/Frontend.h"
#include "pipeline/QueryPipeline.h"
#include "stats/Stats.h"
#include "storage/Database.h"
#include "storage/PinStore.h"
#include "upstream/TlsContextFactory.h"
#include "upstream/UpstreamPool.h"

#include <Poco/ConsoleChannel.h>
#include <Poco/File.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/Path.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionProcessor.h>
#include <Poco/Util/OptionSet.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <thread>

namespace dnsproxy::app
{

namespace
{

const char* const DEFAULT_CONFIG = "/etc/dnsproxy/dnsproxy.ini";

int fail(const std::string& message)
{
	std::cerr << "dnsproxy: " << message << std::endl;
	return DnsProxyApp::EXIT_CONFIG_ERROR;
}

} // namespace

std::string DnsProxyApp::commandLineError(int argc, char** argv)
{
	Poco::Util::OptionSet options;
	defineOptions(options);
	Poco::Util::OptionProcessor processor(options);
	processor.setUnixStyle(true);
	try
	{
		for (int i = 1; i < argc; ++i)
		{
			std::string name;
			std::string value;
			processor.process(argv[i], name, value);
		}
		processor.checkRequired(); // also a trailing option that still wants its argument
	}
	catch (const Poco::Util::OptionException& e)
	{
		return e.displayText();
	}
	return {};
}

void DnsProxyApp::initialize(Poco::Util::Application& self)
{
	// Deliberately no loadConfiguration(): the INI is read and validated by ConfigLoader in main().
	Poco::Util::ServerApplication::initialize(self);
}

void DnsProxyApp::defineOptions(Poco::Util::OptionSet& options)
{
	Poco::Util::ServerApplication::defineOptions(options);
	options.addOption(Poco::Util::Option("config", "c",
										 "read the configuration from FILE (default " + std::string(DEFAULT_CONFIG) +
											 " if it exists)")
						  .required(false)
						  .repeatable(false)
						  .argument("FILE"));
	options.addOption(
		Poco::Util::Option("define", "D", "override one configuration key, e.g. -D server.listen=127.0.0.1:5300")
			.required(false)
			.repeatable(true)
			.argument("section.key=value"));
	options.addOption(
		Poco::Util::Option("check-config", "", "validate and print the effective configuration, then exit")
			.required(false)
			.repeatable(false));
	options.addOption(
		Poco::Util::Option("version", "v", "print the version and exit").required(false).repeatable(false));
	options.addOption(Poco::Util::Option("help", "h", "print this help and exit").required(false).repeatable(false));
}

void DnsProxyApp::handleOption(const std::string& name, const std::string& value)
{
	Poco::Util::ServerApplication::handleOption(name, value);
	if (name == "config")
		_configPath = value;
	else if (name == "define")
		_defines.push_back(value);
	else if (name == "check-config")
		_checkConfig = true;
	else if (name == "version")
	{
		_version = true;
		stopOptionsProcessing();
	}
	else if (name == "help")
	{
		_help = true;
		stopOptionsProcessing();
	}
}

void DnsProxyApp::setupLogging(const std::string& level)
{
	// "[logger] text" on stdout: the start-up lines read "[dnsproxy] udp://... -> tcp+tls://...".
	Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter("[%s] %t"));
	Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel(std::cout));
	Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
	Poco::Logger::root().setChannel(channel);
	Poco::Logger::root().setLevel(level);
	Poco::Logger::setChannel("", channel);
	Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
}

int DnsProxyApp::main(const std::vector<std::string>&)
{
	if (_help)
	{
		Poco::Util::HelpFormatter help(options());
		help.setCommand(commandName());
		help.setUsage("[--config=FILE] [-D section.key=value ...] [--check-config]");
		help.setHeader(
			"dnsproxy " DNSPROXY_VERSION
			" - DNS-over-TLS forwarding proxy: plain DNS in on UDP and TCP, answers over authenticated TLS.");
		help.format(std::cout);
		return EXIT_OK;
	}
	if (_version)
	{
		std::cout << "dnsproxy " << DNSPROXY_VERSION << std::endl;
		return EXIT_OK;
	}

	Config config;
	try
	{
		std::vector<std::pair<std::string, std::string>> defines;
		for (const auto& define : _defines)
			defines.push_back(ConfigLoader::parseDefine(define));
		std::string path = _configPath;
		if (path.empty() && Poco::File(DEFAULT_CONFIG).exists())
			path = DEFAULT_CONFIG;
		config = path.empty() ? ConfigLoader::loadString("", defines) : ConfigLoader::loadFile(path, defines);
	}
	catch (const ConfigError& e)
	{
		return fail(e.what());
	}
	if (_checkConfig)
	{
		const std::string warning = ConfigLoader::exposureWarning(config);
		if (!warning.empty())
			std::cerr << "dnsproxy: warning: " << warning << std::endl;
		std::cout << ConfigLoader::toIni(config);
		return EXIT_OK;
	}
	return serve(config);
}

int DnsProxyApp::serve(const Config& config)
{
	// Everything this process creates (the database, its side files, a self-signed certificate) is
	// for its own user only (SPEC section 6); Database narrows its files whatever the umask too.
	::umask(077);

	// Every thread created from here on inherits this mask, so SIGTERM/SIGINT reach only the
	// sigwait() in waitForTerminationRequest() instead of killing the process from a worker.
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &signals, nullptr);
	std::signal(SIGPIPE, SIG_IGN); // a peer that vanished shows up as EPIPE, not as a signal

	setupLogging(config.log.level);
	if (config.log.queries)
		Poco::Logger::get("dnsproxy.query").setLevel(Poco::Message::PRIO_INFORMATION);
	Poco::Logger& logger = Poco::Logger::get("dnsproxy");

	// Least privilege (Privileges): a root-started proxy decides now whom it becomes, opens the
	// database and reads the CA bundle as root, and drops before the first thread starts.
	const bool root = ::geteuid() == 0;
	std::optional<Privileges::Account> account;
	std::string stayReason; // why a root-started proxy keeps uid 0
	if (root)
	{
		try
		{
			account = Privileges::target(config.server.user);
		}
		catch (const PrivilegeError& e)
		{
			return fail(std::string("server.user: ") + e.what());
		}
		if (!account)
			stayReason = std::string("no user '") + Privileges::DEFAULT_USER + "' on this system; set [server] user";
	}

	// One SQLite file for the cache snapshot and the pin store (SPEC sections 4 and 5), opened even
	// with [cache] enabled = false because the pins live there too. Database moves a corrupt file
	// aside itself; only an unusable directory stops the start.
	std::unique_ptr<storage::Database> database;
	try
	{
		database = std::make_unique<storage::Database>(config.storage.path);
	}
	catch (const storage::StorageError& e)
	{
		return fail(std::string("storage.path: ") + e.what());
	}
	if (account && account->uid != 0)
	{
		// The new user must write the database and create and delete its -wal and -shm files. The
		// folders the proxy made, and an existing folder that holds nothing but the database's own
		// files (/var/lib/dnsproxy made by an older scripts/run), are handed over; any other folder
		// (/tmp, /var/lib) is never chowned, and without write access to it the proxy stays root.
		const std::string directory = database->directory();
		const std::string stem = Poco::Path(config.storage.path).getBaseName();
		try
		{
			const auto& created = database->createdDirectories();
			bool handOver = Privileges::canReach(*account, created.empty() ? directory : created.front());
			if (handOver && created.empty() && !Privileges::canWriteDirectory(*account, directory))
			{
				handOver = Privileges::holdsOnly(directory, stem);
				if (handOver && ::chown(directory.c_str(), account->uid, account->gid) != 0)
					throw storage::StorageError("cannot give '" + directory + "' to " + account->name);
			}
			if (handOver)
				database->giveTo(account->uid, account->gid);
			else
			{
				stayReason = "user " + account->name + " could not write " + directory;
				account.reset();
			}
		}
		catch (const storage::StorageError& e)
		{
			return fail(std::string("storage.path: ") + e.what());
		}
	}
	auto pinStore = std::make_unique<storage::PinStore>(*database);
	// Pins (SPEC section 5): configured pins, learn/enforce over the store, downgrade history.
	PinManager pinManager(config.tls, pinStore.get());

	Poco::Net::Context::Ptr context;
	try
	{
		upstream::TlsSettings tls;
		tls.caFile = config.tls.caFile;
		tls.minVersion = config.tls.minVersion;
		tls.sessionResumption = config.tls.sessionResumption;
		context = upstream::TlsContextFactory::createClientContext(tls);
	}
	catch (const Poco::Exception& e)
	{
		return fail("tls.ca_file: cannot load '" + config.tls.caFile + "': " + e.displayText());
	}

	// Now, before the first thread (capabilities are per thread; later threads inherit them). Said
	// once everything is bound, so that a start that fails prints only its one line (SPEC 2).
	std::string privileges;
	if (!root && !config.server.user.empty())
		privileges =
			"privileges: not started as root, nothing to drop (server.user " + config.server.user + " ignored)";
	if (root)
	{
		try
		{
			privileges =
				"privileges: " + Privileges::drop(account) + (stayReason.empty() ? "" : " (" + stayReason + ")");
		}
		catch (const PrivilegeError& e)
		{
			return fail(std::string("server.user: cannot drop privileges: ") + e.what());
		}
	}

	// Fleet (SPEC 4b): a cache tier and the pin store shared with other proxies through Redis.
	// Starts at once whatever Redis does; the pins Redis holds are merged in when it answers.
	// Declared before the pool so that a pin event from an upstream thread always finds it.
	std::unique_ptr<fleet::Fleet> fleet;
	if (!config.fleet.redis.empty())
	{
		auto url = fleet::RedisUrl::parse(config.fleet.redis);
		if (!url)
			return fail("fleet.redis: expected redis://host:port[/db], got '" + config.fleet.redis + "'");
		fleet::FleetSettings fleetSettings;
		fleetSettings.url = *url;
		fleetSettings.keyPrefix = config.fleet.keyPrefix;
		fleetSettings.timeoutMs = config.fleet.timeoutMs;
		fleet = std::make_unique<fleet::Fleet>(fleetSettings, makeCacheSettings(config.cache),
											   [&pinManager](const fleet::PinEvent& e) { pinManager.applyRemote(e); });
		pinManager.setEventSink([&fleet](const fleet::PinEvent& e) { fleet->publish(e); });
		fleet->start();
	}

	stats::FrontendStats frontendStats;
	upstream::UpstreamPool pool(makePoolSettings(config), context, &pinManager);
	frontend::ClientAcl acl = makeAcl(config.server.allow);
	pipeline::PipelineSettings pipelineSettings;
	pipelineSettings.udpPayloadSize = config.server.udpPayloadSize;
	pipelineSettings.maxPending = config.server.maxPending;
	pipelineSettings.logQueries = config.log.queries;
	// RFC 8767 client-response timer (it suggests 1.8 s; 1.5 s leaves room under the 2 s that client
	// resolvers commonly wait), never later than the whole upstream budget.
	pipelineSettings.staleAnswerAfterMs = static_cast<uint32_t>(
		std::min<uint64_t>(1500, uint64_t(config.upstream.timeoutMs) * config.upstream.servers.size()));
	std::unique_ptr<cache::PacketCache> cache; // null when [cache] enabled = false
	if (config.cache.enabled)
	{
		cache = std::make_unique<cache::PacketCache>(makeCacheSettings(config.cache));
	}
	pipeline::QueryPipeline pipeline(pipelineSettings, acl, pool, frontendStats, cache.get());
	if (fleet && cache)
		pipeline.setSecondLevelCache(&fleet->cache());

	frontend::FrontendSettings frontendSettings;
	for (const auto& address : config.server.listen)
		frontendSettings.listen.emplace_back(address.host, address.port);
	frontendSettings.udp = config.server.udp;
	frontendSettings.tcp = config.server.tcp;
	frontendSettings.threads =
		config.server.threads ? config.server.threads : std::max(1u, std::thread::hardware_concurrency());
	frontendSettings.tcpLimits.idleTimeoutMs = config.server.tcpIdleTimeoutMs;
	frontendSettings.maxTcpConnections = config.server.maxTcpConnections;
	frontendSettings.udpBatchWaitUs = config.server.udpBatchWaitUs;
	frontend::Frontend frontend(frontendSettings, pipeline, frontendStats);
	try
	{
		frontend.start();
	}
	catch (const frontend::BindError& e)
	{
		return fail(std::string("server.listen: ") + e.what());
	}

	// Cache write-behind (SPEC section 4, Persistence): loaded right after the front end has bound
	// its sockets (so a port in use fails before anything else is said),
	// flushed every flush_interval_ms, and once more after the front end and upstreams stop.
	std::unique_ptr<CachePersistence> cachePersistence;
	if (cache)
	{
		CachePersistenceSettings persistenceSettings;
		persistenceSettings.flushIntervalMs = config.storage.flushIntervalMs;
		persistenceSettings.keepExpiredSeconds = config.cache.serveStale ? config.cache.maxStale : 0;
		cachePersistence = std::make_unique<CachePersistence>(*database, *cache, persistenceSettings);
		cachePersistence->loadInto();
		cachePersistence->start();
	}

	// Admin API (SPEC section 6): started once the front end is up, stopped first at shutdown.
	StatsCollector statsCollector(frontendStats, pool, [&pipeline] { return pipeline.pending(); });
	if (cache)
		statsCollector.addFiller([&cache](stats::StatsSnapshot& s) { cache->fillStats(s.cache); });
	if (cachePersistence)
		statsCollector.addFiller([&cachePersistence](stats::StatsSnapshot& s) {
			s.cache.persisted = cachePersistence->persisted();
			s.cache.loadSeconds = cachePersistence->loadSeconds();
		});
	statsCollector.addFiller([&pinManager](stats::StatsSnapshot& s) {
		s.pins.changesSeen = pinManager.changesSeen();
		s.pins.refusals = pinManager.refusals();
		s.pins.learned = pinManager.learned();
		s.pins.expiringSoon = pinManager.expiringSoon();
	});
	if (fleet)
		statsCollector.addFiller([&fleet](stats::StatsSnapshot& s) { fleet->fillStats(s.fleet); });
	AdminBridge adminBridge(statsCollector, pool);
	admin::AdminSources adminSources;
	adminSources.stats = &adminBridge;
	adminSources.health = &adminBridge;
	adminSources.pins = &pinManager;
	std::unique_ptr<CacheBridge> cacheBridge; // null while the cache is off: /cache answers 503
	if (cache)
	{
		// DELETE /cache must empty the SQLite file too, not only at the next flush interval.
		cacheBridge = CacheBridge::over(*cache, [&cachePersistence] {
			if (cachePersistence)
				cachePersistence->flushNow();
		});
		adminSources.cache = cacheBridge.get();
	}
	std::unique_ptr<admin::AdminServer> adminServer;
	if (!config.admin.listen.empty())
	{
		admin::AdminSettings adminSettings;
		adminSettings.listen = config.admin.listen;
		adminSettings.token = config.admin.token;
		adminServer = std::make_unique<admin::AdminServer>(adminSettings, adminSources);
		try
		{
			adminServer->start();
		}
		catch (const admin::AdminBindError& e)
		{
			frontend.stop();
			if (fleet)
				fleet->stop(); // its lookup threads call back into the pipeline
			pool.stop();
			return fail(std::string("admin.listen: ") + e.what());
		}
	}

	if (!privileges.empty())
		logger.notice(privileges);
	const std::string exposure = ConfigLoader::exposureWarning(config);
	if (!exposure.empty())
		logger.warning("warning: " + exposure);

	// Exactly one line per listener and protocol (SPEC section 2), whatever the log level.
	const std::string target = pool.servers().front()->endpoint.url();
	for (const auto& address : config.server.listen)
	{
		for (const char* protocol : {"udp", "tcp"})
		{
			if ((std::string(protocol) == "udp" && !config.server.udp) ||
				(std::string(protocol) == "tcp" && !config.server.tcp))
				continue;
			logger.getChannel()->log(Poco::Message("dnsproxy",
												   std::string(protocol) + "://" + address.toString() + " -> " + target,
												   Poco::Message::PRIO_NOTICE));
		}
	}

	waitForTerminationRequest();
	logger.information("shutting down");
	if (adminServer)
		adminServer->stop();
	frontend.stop();
	if (fleet)
		fleet->stop(); // queued lookups go upstream as misses, queued writes get one last try
	pool.stop();
	if (cachePersistence)
	{
		cachePersistence->stop();
		const size_t written = cachePersistence->flushNow();
		logger.information("cache flushed to " + config.storage.path + " (" + std::to_string(written) + " entries)");
	}
	logger.information("stopped");
	return EXIT_OK;
}

} // namespace dnsproxy::app
