// ConfigLoader.h - reads etc/dnsproxy.ini (and -D overrides) into a validated Config, and prints it back.
#pragma once

#include "app/Config.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::app
{

/// Thrown for any configuration problem; what() is one line "<section.key or file path>: <reason>",
/// e.g. "<section.key>: expected an integer between 1 and 600000, got 'abc'" or "/nope.ini: cannot read file".
class ConfigError: public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

/// Turns INI text into a Config (SPEC section 3) and back.
///
/// The INI is parsed with Poco::Util::IniFileConfiguration, with three additions POCO 1.11 lacks: lines starting
/// with '#' are comments too, an inline comment starts at a ';' that opens the value or follows whitespace (the
/// SPEC's example writes `key = value   ; comment`; '#' is not an inline comment because `servers` entries are
/// `IP:port#name`), and malformed lines and unknown sections or keys are errors instead of being ignored.
/// Section and key names are case-insensitive and reported lower-case. A key given twice: the last one wins.
///
/// Thread-safety: all members are static and stateless; call them from any thread.
class ConfigLoader
{
public:
	/// What toIni() prints for a configured admin token: the secret itself never leaves the process.
	static constexpr const char* TOKEN_SET = "(set)";

	/// Reads an INI file, applies `defines` ("section.key" -> value, from -D; they win), validates everything and
	/// returns the effective configuration. Throws ConfigError.
	static Config loadFile(const std::string& path, const std::vector<std::pair<std::string, std::string>>& defines);

	/// Every key at its default (the table's, ConfigTable.cpp), without the checks that need this machine.
	static Config defaults();

	/// Same from INI text already in memory (used by tests); errors about the text itself name "<string>".
	static Config loadString(const std::string& iniText,
							 const std::vector<std::pair<std::string, std::string>>& defines);

	/// Parses "section.key=value" as given to -D; throws ConfigError("-D ...: expected section.key=value") if
	/// malformed. Name and value are trimmed; the value may be empty (an empty admin listen address turns the admin
	/// off).
	static std::pair<std::string, std::string> parseDefine(const std::string& text);

	/// The effective configuration as INI text, every key of the table, for --check-config.
	/// loadString(toIni(c)) gives c back, except the admin token, printed as `token = (set)`.
	static std::string toIni(const Config& config);

	/// One line when a DNS or admin listener is not on loopback and the client allow list admits a
	/// public network (anything beyond loopback, RFC 1918, RFC 4193 ULA and link-local); empty otherwise.
	/// The app logs it once at start, --check-config prints it on stderr.
	static std::string exposureWarning(const Config& config);

	/// "1.2.3.4:53", "[::1]:53", "1.2.3.4" or "::1" (then defaultPort). Numeric addresses only, port 1-65535;
	/// the host comes back in canonical text form without brackets. std::nullopt if malformed.
	static std::optional<ListenAddress> parseHostPort(const std::string& text, uint16_t defaultPort);

	/// "10.0.0.0/8", "fc00::/7" as frontend::ClientAcl::parse reads it, keeping the trimmed text.
	static std::optional<Cidr> parseCidr(const std::string& text);
};

} // namespace dnsproxy::app
