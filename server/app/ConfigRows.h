// ConfigRows.h - the value parsers and row builders of the configuration table (ConfigTable.cpp only).
#pragma once

#include "app/ConfigLoader.h"
#include "app/ConfigTable.h"
#include "app/ConfigText.h"

#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::app::rows
{

using namespace text;

/// The names of the enumerated values, as written in the INI file.
template <typename T> using Choices = std::vector<std::pair<std::string, T>>;

// --- value parsers: each names the key and the reason in its ConfigError ---------------------------------

inline uint32_t toUInt(const std::string& key, const std::string& value, uint32_t min, uint32_t max)
{
	const auto n = parseNumber(value, max);
	if (!n || *n < min)
		fail(key, "expected an integer between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
					  quoted(value));
	return static_cast<uint32_t>(*n);
}

inline bool toBool(const std::string& key, const std::string& value)
{
	const std::string v = lower(value);
	if (v == "true" || v == "yes" || v == "on" || v == "1")
		return true;
	if (v == "false" || v == "no" || v == "off" || v == "0")
		return false;
	fail(key, "expected true, false, yes, no, on, off, 1 or 0, got " + quoted(value));
}

template <typename T> T toChoice(const std::string& key, const std::string& value, const Choices<T>& choices)
{
	std::string names;
	for (const auto& choice : choices)
	{
		if (lower(value) == choice.first)
			return choice.second;
		names += (names.empty() ? "" : " | ") + choice.first;
	}
	fail(key, "expected " + names + ", got " + quoted(value));
}

template <typename T> std::string choiceName(const T& value, const Choices<T>& choices)
{
	for (const auto& choice : choices)
		if (choice.second == value)
			return choice.first;
	return "?";
}

// --- row builders for the common kinds of key -----------------------------------------------------------

// A field may belong to a base of the section's struct (CacheConfig is the cache's own settings): B.
template <typename S, typename B, typename F>
ConfigKey number(const char* section, const char* name, const char* def, S Config::*part, F B::*field, uint32_t min,
				 uint32_t max)
{
	return {section, name, def,
			[=](Config& c, const std::string& k, const std::string& v) {
				(c.*part).*field = static_cast<F>(toUInt(k, v, min, max));
			},
			[=](const Config& c) { return std::to_string((c.*part).*field); }};
}

template <typename S, typename B>
ConfigKey flag(const char* section, const char* name, const char* def, S Config::*part, bool B::*field)
{
	return {section, name, def,
			[=](Config& c, const std::string& k, const std::string& v) { (c.*part).*field = toBool(k, v); },
			[=](const Config& c) { return std::string((c.*part).*field ? "true" : "false"); }};
}

template <typename S>
ConfigKey string(const char* section, const char* name, const char* def, S Config::*part, std::string S::*field)
{
	return {section, name, def, [=](Config& c, const std::string&, const std::string& v) { (c.*part).*field = v; },
			[=](const Config& c) { return (c.*part).*field; }};
}

template <typename S, typename T>
ConfigKey choice(const char* section, const char* name, const char* def, S Config::*part, T S::*field,
				 const Choices<T>& choices)
{
	return {section, name, def,
			[=, &choices](Config& c, const std::string& k, const std::string& v) {
				(c.*part).*field = toChoice(k, v, choices);
			},
			[=, &choices](const Config& c) { return choiceName((c.*part).*field, choices); }};
}

/// A key that a reload (SIGHUP) does not apply: it keeps its running value until a restart.
inline ConfigKey restartOnly(ConfigKey key)
{
	key.reloadable = false;
	return key;
}

} // namespace dnsproxy::app::rows
