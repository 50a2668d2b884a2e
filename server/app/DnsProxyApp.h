// DnsProxyApp.h - the dnsproxy process: options, configuration, wiring and orderly shutdown.
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::app
{

struct Config;
class Services;

/// A thin ServerApplication: handleOption() only records what the command line said; main()
/// loads and validates the configuration (exit 2 with one line on any error), has Services open
/// storage, drop privileges and start everything, logs one line per listener and protocol, then
/// waits for SIGTERM/SIGINT and calls Services::stop(), the one shutdown order (stop accepting,
/// answer or fail what is in flight, flush the cache, close storage) that a failed start uses too.
/// SIGHUP re-reads the same file with the same -D overrides and hands the result to
/// Services::reload() on the main thread (the signals are taken with sigwait(), never in a
/// handler); a file that does not validate is logged in one line and changes nothing.
/// `--health [--ready]` starts nothing: it asks the instance the configuration describes
/// (HealthProbe) and exits 0 (healthy) or 1.
class DnsProxyApp: public Poco::Util::ServerApplication
{
public:
	static constexpr int EXIT_CONFIG_ERROR = 2;
	static constexpr int EXIT_UNHEALTHY = 1; ///< --health: not serving (or the configuration is unusable)

	/// Checks the command line against the options before POCO's init() sees it, so an unknown
	/// option or a missing argument exits 2 with one line (like a bad configuration) instead of
	/// POCO's EX_CONFIG (78) and a message without a newline. Empty when the line is fine.
	std::string commandLineError(int argc, char** argv);

protected:
	void initialize(Poco::Util::Application& self) override;
	void defineOptions(Poco::Util::OptionSet& options) override;
	void handleOption(const std::string& name, const std::string& value) override;
	int main(const std::vector<std::string>& args) override;

private:
	Config loadConfig() const;
	int serve(const Config& config);
	void reload(Services& services);
	static void logListeners(const Config& config, const std::string& target);
	void setupLogging(const std::string& level);

	std::string _configPath;
	std::vector<std::string> _defines;
	bool _help = false;
	bool _version = false;
	bool _checkConfig = false;
	bool _health = false;
	bool _ready = false;
};

} // namespace dnsproxy::app
