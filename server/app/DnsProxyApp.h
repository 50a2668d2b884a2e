// DnsProxyApp.h - the dnsproxy process: options, configuration, wiring and orderly shutdown.
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::app
{

struct Config;

/// A thin ServerApplication: handleOption() only records what the command line said; main()
/// loads and validates the configuration (exit 2 with one line on any error), builds the upstream
/// pool, the pipeline and the front end, logs one line per listener and protocol, then waits for
/// SIGTERM/SIGINT and stops the front end before the upstreams, so every query in flight is
/// answered or failed before the process exits.
class DnsProxyApp: public Poco::Util::ServerApplication
{
public:
	static constexpr int EXIT_CONFIG_ERROR = 2;

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
	int serve(const Config& config);
	void setupLogging(const std::string& level);

	std::string _configPath;
	std::vector<std::string> _defines;
	bool _help = false;
	bool _version = false;
	bool _checkConfig = false;
};

} // namespace dnsproxy::app
