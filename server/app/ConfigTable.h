// ConfigTable.h - the one table of INI keys: section, name, default, and how each is parsed and printed.
#pragma once

#include "app/Config.h"

#include <functional>
#include <string>
#include <vector>

namespace dnsproxy::app
{

/// One key of etc/dnsproxy.ini. Its row is the only place the key's name, default, accepted values
/// and target field in Config are written; ConfigLoader validates with it, toIni() prints with it,
/// and ConfigTableTest checks etc/dnsproxy.ini against it.
struct ConfigKey
{
	std::string section;
	std::string name;
	std::string defaultValue; ///< in the form toIni() prints it
	/// Stores `value` into the key's field of `config`; throws ConfigError("<key>: <reason>").
	std::function<void(Config& config, const std::string& key, const std::string& value)> parse;
	/// The field as --check-config prints it (the admin token as "(set)").
	std::function<std::string(const Config& config)> print;
	/// False for keys a reload (SIGHUP) leaves at their running value until a restart.
	bool reloadable = true;

	std::string fullName() const
	{
		return section + "." + name;
	}
};

/// A key that other code names in its messages. The constant is defined in ConfigTable.cpp and
/// the key's row is built from it, so the name is still written once.
struct KeyName
{
	const char* section;
	const char* name;

	/// "section.name", as error messages begin with it.
	std::string dotted() const
	{
		return std::string(section) + "." + name;
	}
	/// "[section] name", as a hint to the reader of the INI file says it.
	std::string bracketed() const
	{
		return "[" + std::string(section) + "] " + name;
	}
};

namespace keys
{
extern const KeyName SERVER_LISTEN;
extern const KeyName SERVER_ALLOW;
extern const KeyName SERVER_USER;
extern const KeyName SERVER_TLS_LISTEN;
extern const KeyName SERVER_HTTPS_LISTEN;
extern const KeyName SERVER_TLS_CERT_FILE;
extern const KeyName SERVER_TLS_KEY_FILE;
extern const KeyName TLS_CA_FILE;
extern const KeyName STORAGE_PATH;
extern const KeyName FLEET_REDIS;
extern const KeyName FLEET_CA_FILE;
extern const KeyName ADMIN_LISTEN;
extern const KeyName ADMIN_TOKEN;
} // namespace keys

/// The pin policy as a line of the INI file says it: "<key> = <value>".
std::string pinPolicySetting(PinPolicy policy);

/// Every key of SPEC section 3 in the SPEC's order (toIni prints in this order), plus our own additions at
/// the end of their section (README, Configuration).
const std::vector<ConfigKey>& configKeys();

/// The checks that involve more than one key, or a value that may not hold on this machine (a readable CA
/// bundle); run once every key is parsed. Canonicalises the admin listen address. Throws ConfigError.
void checkConfig(Config& config);

} // namespace dnsproxy::app
