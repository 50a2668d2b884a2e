// ConfigLoader.cpp - INI parsing, validation and printing of the dnsproxy configuration (SPEC section 3).
#include "app/ConfigLoader.h"

#include "app/ConfigTable.h"
#include "app/ConfigText.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/IniFileConfiguration.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace dnsproxy::app
{

namespace
{

using namespace text;

/// Lower-case "section.key" -> raw value.
using Values = std::map<std::string, std::string>;

bool knownSection(const std::string& section)
{
	for (const auto& key : configKeys())
		if (key.section == section)
			return true;
	return false;
}

bool knownKey(const std::string& fullKey)
{
	for (const auto& key : configKeys())
		if (key.fullName() == fullKey)
			return true;
	return false;
}

/// Checks the line structure POCO would silently accept (a line without '=', "[server" without ']', keys before
/// any section, unknown sections) and drops '#' comment lines, which POCO 1.11 would read as keys.
std::string checkStructure(const std::string& text, const std::string& source)
{
	std::istringstream in(text);
	std::string out;
	std::string line;
	bool inSection = false;
	for (unsigned number = 1; std::getline(in, line); ++number)
	{
		const std::string where = source + ": line " + std::to_string(number);
		const std::string t = trim(line);
		if (t.empty() || t[0] == ';' || t[0] == '#')
		{
			out += "\n";
			continue;
		}
		if (t[0] == '[')
		{
			const auto close = t.find(']');
			if (close == std::string::npos)
				fail(where, "missing ']' in " + quoted(t));
			const std::string rest = trim(t.substr(close + 1));
			if (!rest.empty() && rest[0] != ';' && rest[0] != '#')
				fail(where, "unexpected " + quoted(rest) + " after the section name");
			const std::string name = lower(trim(t.substr(1, close - 1)));
			if (name.empty())
				fail(where, "empty section name");
			if (!knownSection(name))
				fail(name, "unknown section");
			inSection = true;
			out += "[" + name + "]\n";
			continue;
		}
		const auto eq = t.find('=');
		if (eq == std::string::npos)
			fail(where, "expected 'key = value' or '[section]', got " + quoted(t));
		const std::string key = lower(trim(t.substr(0, eq)));
		if (key.empty())
			fail(where, "missing key before '='");
		if (!inSection)
			fail(key, "unknown key (every key belongs in a [section])");
		out += t + "\n";
	}
	return out;
}

void collectKeys(const Poco::Util::AbstractConfiguration& ini, const std::string& prefix, Values& values)
{
	Poco::Util::AbstractConfiguration::Keys keys;
	ini.keys(prefix, keys);
	for (const auto& key : keys)
	{
		const std::string full = prefix.empty() ? key : prefix + "." + key;
		if (ini.hasProperty(full))
			values[lower(full)] = stripInlineComment(ini.getRawString(full));
		collectKeys(ini, full, values);
	}
}

Values readIni(const std::string& text, const std::string& source)
{
	std::istringstream cleaned(checkStructure(text, source));
	Values values;
	try
	{
		Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini(new Poco::Util::IniFileConfiguration(cleaned));
		collectKeys(*ini, "", values);
	}
	catch (const Poco::Exception& e)
	{
		fail(source, "cannot parse: " + e.displayText());
	}
	for (const auto& entry : values)
		if (!knownKey(entry.first))
			fail(entry.first, "unknown key");
	return values;
}

/// Every key of the table in order: its value if given, else its default; then the checks across keys.
Config build(const Values& values)
{
	Config config;
	for (const auto& key : configKeys())
	{
		const std::string name = key.fullName();
		const auto it = values.find(name);
		key.parse(config, name, it == values.end() ? key.defaultValue : it->second);
	}
	checkConfig(config);
	return config;
}

Config load(const std::string& text, const std::string& source,
			const std::vector<std::pair<std::string, std::string>>& defines)
{
	Values values = readIni(text, source);
	for (const auto& define : defines)
	{
		const std::string key = lower(trim(define.first));
		if (!knownKey(key))
			fail(key, knownSection(key.substr(0, key.find('.'))) ? "unknown key" : "unknown section");
		values[key] = trim(define.second);
	}
	return build(values);
}

} // namespace

Config ConfigLoader::loadFile(const std::string& path, const std::vector<std::pair<std::string, std::string>>& defines)
{
	struct stat st
	{
	};
	if (::stat(path.c_str(), &st) != 0)
		fail(path, std::string("cannot read file: ") + std::strerror(errno));
	if (S_ISDIR(st.st_mode))
		fail(path, std::string("cannot read file: ") + std::strerror(EISDIR));
	std::ifstream in(path, std::ios::binary);
	if (!in)
		fail(path, std::string("cannot read file: ") + std::strerror(errno));
	std::ostringstream text;
	text << in.rdbuf();
	if (in.bad())
		fail(path, "cannot read file");
	return load(text.str(), path, defines);
}

Config ConfigLoader::defaults()
{
	Config config;
	for (const auto& key : configKeys())
		key.parse(config, key.fullName(), key.defaultValue);
	return config;
}

Config ConfigLoader::loadString(const std::string& iniText,
								const std::vector<std::pair<std::string, std::string>>& defines)
{
	return load(iniText, "<string>", defines);
}

std::pair<std::string, std::string> ConfigLoader::parseDefine(const std::string& text)
{
	const auto eq = text.find('=');
	const std::string name = trim(text.substr(0, eq));
	const auto dot = name.find('.');
	if (eq == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 == name.size() ||
		name.find('.', dot + 1) != std::string::npos)
		fail("-D " + text, "expected section.key=value");
	return {lower(name), trim(text.substr(eq + 1))};
}

std::optional<ListenAddress> ConfigLoader::parseHostPort(const std::string& text, uint16_t defaultPort)
{
	const std::string t = trim(text);
	std::string host;
	std::string port;
	bool bracketed = false;
	if (!t.empty() && t[0] == '[')
	{
		const auto close = t.find(']');
		if (close == std::string::npos)
			return std::nullopt;
		host = t.substr(1, close - 1);
		bracketed = true;
		const std::string rest = t.substr(close + 1);
		if (!rest.empty())
		{
			if (rest[0] != ':')
				return std::nullopt;
			port = rest.substr(1);
			if (port.empty())
				return std::nullopt;
		}
	}
	else if (std::count(t.begin(), t.end(), ':') == 1)
	{
		const auto colon = t.find(':');
		host = t.substr(0, colon);
		port = t.substr(colon + 1);
		if (port.empty())
			return std::nullopt;
	}
	else
		host = t; // IPv4 without port, or an unbracketed IPv6 address (which cannot carry a port)

	ListenAddress address;
	address.port = defaultPort;
	if (!port.empty())
	{
		const auto n = parseNumber(port, 65535);
		if (!n || *n == 0)
			return std::nullopt;
		address.port = static_cast<uint16_t>(*n);
	}
	char canonical[INET6_ADDRSTRLEN] = {};
	in_addr v4{};
	in6_addr v6{};
	if (!bracketed && inet_pton(AF_INET, host.c_str(), &v4) == 1)
		inet_ntop(AF_INET, &v4, canonical, sizeof(canonical));
	else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
		inet_ntop(AF_INET6, &v6, canonical, sizeof(canonical));
	else
		return std::nullopt;
	address.host = canonical;
	return address;
}

std::optional<Cidr> ConfigLoader::parseCidr(const std::string& text)
{
	const std::string trimmed = trim(text);
	const auto network = frontend::ClientAcl::parse(trimmed);
	if (!network)
		return std::nullopt;
	return Cidr{trimmed, *network};
}

} // namespace dnsproxy::app
