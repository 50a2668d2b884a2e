// DnsProxyApp.cpp - process entry logic of dnsproxy.
#include "app/DnsProxyApp.h"

#include "app/Config.h"
#include "app/ConfigLoader.h"
#include "app/ConfigSettings.h"
#include "app/ConfigTable.h"
#include "app/HealthProbe.h"
#include "app/Services.h"
#include "frontend/ClientAcl.h"
#include "frontend/QueryHandler.h"
#include "upstream/UpstreamPool.h"

#include <Poco/ConsoleChannel.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionProcessor.h>
#include <Poco/Util/OptionSet.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <iostream>

namespace dnsproxy::app
{

namespace
{

const char* const DEFAULT_CONFIG = "/etc/dnsproxy/dnsproxy.ini";

/// What the start-up listener lines depend on besides the upstream target.
std::string listenerKey(const Config& config)
{
	std::string key = std::to_string(config.server.udp) + std::to_string(config.server.tcp);
	for (const auto& address : config.server.listen)
		key += " " + address.toString();
	for (const auto& address : config.server.tlsListen)
		key += " tls " + address.toString();
	for (const auto& address : config.server.httpsListen)
		key += " https " + address.toString();
	return key + " " + config.server.dohPath;
}

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
	options.addOption(Poco::Util::Option("define", "D",
										 "override one configuration key, e.g. -D " + keys::SERVER_LISTEN.dotted() +
											 "=127.0.0.1:5300")
						  .required(false)
						  .repeatable(true)
						  .argument("section.key=value"));
	options.addOption(
		Poco::Util::Option("check-config", "", "validate and print the effective configuration, then exit")
			.required(false)
			.repeatable(false));
	options.addOption(Poco::Util::Option("health", "",
										 "ask the running instance this configuration describes whether it serves "
										 "(admin /health, or a DNS query when the admin API is off); exit 0 or 1")
						  .required(false)
						  .repeatable(false));
	options.addOption(Poco::Util::Option("ready", "",
										 "with --health: healthy only while an upstream is usable (readiness), "
										 "not merely serving (liveness)")
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
	else if (name == "health")
		_health = true;
	else if (name == "ready")
		_ready = true;
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
		help.setUsage("[--config=FILE] [-D section.key=value ...] [--check-config | --health [--ready]]");
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
		config = loadConfig();
	}
	catch (const ConfigError& e)
	{
		if (_health)
		{
			std::cerr << "dnsproxy: unhealthy: " << e.what() << std::endl;
			return EXIT_UNHEALTHY;
		}
		return fail(e.what());
	}
	if (_health)
	{
		const HealthProbe::Result result = HealthProbe::check(config, _ready);
		(result.healthy ? std::cout : std::cerr)
			<< "dnsproxy: " << (result.healthy ? "healthy: " : "unhealthy: ") << result.detail << std::endl;
		return result.healthy ? EXIT_OK : EXIT_UNHEALTHY;
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

Config DnsProxyApp::loadConfig() const
{
	std::vector<std::pair<std::string, std::string>> defines;
	for (const auto& define : _defines)
		defines.push_back(ConfigLoader::parseDefine(define));
	std::string path = _configPath;
	if (path.empty() && Poco::File(DEFAULT_CONFIG).exists())
		path = DEFAULT_CONFIG;
	return path.empty() ? ConfigLoader::loadString("", defines) : ConfigLoader::loadFile(path, defines);
}

void DnsProxyApp::reload(Services& services)
{
	Poco::Logger& logger = Poco::Logger::get("dnsproxy");
	const std::time_t now = std::time(nullptr);
	const std::string listenersBefore = services.upstreamTarget() + listenerKey(services.config());
	try
	{
		const Config next = loadConfig();
		const std::vector<std::string> restartOnly = services.reload(next);
		const Config& running = services.config();
		Poco::Logger::root().setLevel(running.log.level);
		Poco::Logger::setLevel("", Poco::Logger::parseLevel(running.log.level));
		if (running.log.queries)
			Poco::Logger::get("dnsproxy.query").setLevel(Poco::Message::PRIO_INFORMATION);
		services.recordReload(now, "ok");
		std::string line = "reload: configuration applied";
		if (!restartOnly.empty())
		{
			line += "; needs a restart, kept as running:";
			for (const auto& key : restartOnly)
				line += " " + key;
		}
		logger.notice(line);
		for (const auto& certificate : services.certificateLines())
			logger.notice("reload: " + certificate);
		if (services.upstreamTarget() + listenerKey(running) != listenersBefore)
			logListeners(running, services.upstreamTarget()); // the SPEC 2 lines, for what serves now
	}
	catch (const std::runtime_error& e) // ConfigError or StartError: one line naming the key or file
	{
		services.recordReload(now, std::string("failed: ") + e.what());
		logger.error(std::string("reload failed, running configuration kept: ") + e.what());
	}
	catch (const Poco::Exception& e) // not expected: still one line, and the process keeps serving
	{
		services.recordReload(now, std::string("failed: ") + e.displayText());
		logger.error(std::string("reload failed: ") + e.displayText());
	}
}

int DnsProxyApp::serve(const Config& config)
{
	// Everything this process creates (the database, its side files, a self-signed certificate) is
	// for its own user only (SPEC section 6); Database narrows its files whatever the umask too.
	::umask(077);

	// Every thread created from here on inherits this mask, so SIGTERM/SIGINT/SIGHUP reach only the
	// sigwait() below instead of killing the process from a worker (SIGHUP's default action).
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGQUIT);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, nullptr);
	std::signal(SIGPIPE, SIG_IGN); // a peer that vanished shows up as EPIPE, not as a signal

	setupLogging(config.log.level);
	if (config.log.queries)
		Poco::Logger::get("dnsproxy.query").setLevel(Poco::Message::PRIO_INFORMATION);
	Poco::Logger& logger = Poco::Logger::get("dnsproxy");

	// Privileges are dropped before start() creates the first thread; a failed step stops what
	// already runs in the same order as SIGTERM does (Services::stop), then exits 2 with one line.
	Services services(config, {makePoolSettings(config), config.cache, makeAcl(config.server.allow)});
	try
	{
		services.open();
		services.dropPrivileges();
		services.start();
	}
	catch (const StartError& e)
	{
		services.stop();
		return fail(e.what());
	}

	if (!services.privilegesLine().empty())
		logger.notice(services.privilegesLine());
	const std::string exposure = ConfigLoader::exposureWarning(config);
	if (!exposure.empty())
		logger.warning("warning: " + exposure);
	logListeners(config, services.upstreamTarget());
	for (const auto& line : services.certificateLines())
		logger.notice(line);

	// The main thread only waits for signals: SIGHUP reloads here, on this thread, and the
	// others end the loop (what waitForTerminationRequest() does, plus SIGHUP).
	for (;;)
	{
		int signal = 0;
		if (sigwait(&signals, &signal) != 0)
			continue;
		if (signal != SIGHUP)
			break;
		reload(services);
	}
	logger.information("shutting down");
	services.stop();
	logger.information("stopped");
	return EXIT_OK;
}

void DnsProxyApp::logListeners(const Config& config, const std::string& target)
{
	// Exactly one line per listener and protocol (SPEC section 2), whatever the log level.
	Poco::Logger& logger = Poco::Logger::get("dnsproxy");
	for (const auto& address : config.server.listen)
	{
		for (const auto transport : {frontend::Transport::UDP, frontend::Transport::TCP})
		{
			if (!(transport == frontend::Transport::UDP ? config.server.udp : config.server.tcp))
				continue;
			const char* protocol = frontend::transportName(transport);
			logger.getChannel()->log(Poco::Message("dnsproxy",
												   std::string(protocol) + "://" + address.toString() + " -> " + target,
												   Poco::Message::PRIO_NOTICE));
		}
	}
	for (const auto& address : config.server.tlsListen)
		logger.getChannel()->log(
			Poco::Message("dnsproxy", "tls://" + address.toString() + " -> " + target, Poco::Message::PRIO_NOTICE));
	for (const auto& address : config.server.httpsListen)
		logger.getChannel()->log(Poco::Message(
			"dnsproxy", "https://" + address.toString() + config.server.dohPath + " -> " + target,
			Poco::Message::PRIO_NOTICE));
}

} // namespace dnsproxy::app
