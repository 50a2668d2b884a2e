// ConfigText.cpp - small text helpers of the INI loader.
#include "app/ConfigText.h"

#include "app/ConfigLoader.h"

#include <algorithm>
#include <cctype>

namespace dnsproxy::app::text
{

std::string trim(const std::string& text)
{
	size_t begin = 0;
	size_t end = text.size();
	while (begin < end && std::isspace(static_cast<unsigned char>(text[begin])))
		++begin;
	while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1])))
		--end;
	return text.substr(begin, end - begin);
}

std::string lower(std::string text)
{
	for (char& c : text)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	return text;
}

void fail(const std::string& where, const std::string& reason)
{
	throw ConfigError(where + ": " + reason);
}

std::string quoted(const std::string& text)
{
	return "'" + text + "'";
}

/// Cuts `value ; comment`: a ';' that opens the value or follows whitespace starts a comment.
std::string stripInlineComment(const std::string& value)
{
	for (size_t i = 0; i < value.size(); ++i)
		if (value[i] == ';' && (i == 0 || std::isspace(static_cast<unsigned char>(value[i - 1]))))
			return trim(value.substr(0, i));
	return trim(value);
}

/// Comma-separated list; items trimmed, empty items (a trailing comma) dropped.
std::vector<std::string> splitList(const std::string& value)
{
	std::vector<std::string> items;
	std::string::size_type start = 0;
	while (start <= value.size())
	{
		auto comma = value.find(',', start);
		if (comma == std::string::npos)
			comma = value.size();
		const std::string item = trim(value.substr(start, comma - start));
		if (!item.empty())
			items.push_back(item);
		start = comma + 1;
	}
	return items;
}

std::string join(const std::vector<std::string>& items)
{
	std::string out;
	for (const auto& item : items)
		out += (out.empty() ? "" : ", ") + item;
	return out;
}

bool allDigits(const std::string& text)
{
	if (text.empty())
		return false;
	for (char c : text)
		if (!std::isdigit(static_cast<unsigned char>(c)))
			return false;
	return true;
}

/// Decimal digits only, no sign; nullopt if not a number or above max.
std::optional<unsigned long long> parseNumber(const std::string& text, unsigned long long max)
{
	if (!allDigits(text) || text.size() > 18)
		return std::nullopt;
	const unsigned long long n = std::stoull(text);
	if (n > max)
		return std::nullopt;
	return n;
}

/// Letters, digits, '-' and '_' in labels of 1..63 octets, 253 in all, an optional final dot (RFC 1035 2.3.4).
bool isHostName(const std::string& name)
{
	if (name.empty() || name.size() > 254 || (name.size() == 254 && name.back() != '.'))
		return false;
	size_t label = 0;
	for (size_t i = 0; i < name.size(); ++i)
	{
		const char c = name[i];
		if (c == '.')
		{
			if (label == 0)
				return false;
			label = 0;
		}
		else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
		{
			if (++label > 63)
				return false;
		}
		else
			return false;
	}
	return true;
}

/// Strict RFC 4648 section 4 base64 (standard alphabet, '=' padding required).
std::optional<std::vector<uint8_t>> decodeBase64(const std::string& text)
{
	static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (text.empty() || text.size() % 4 != 0)
		return std::nullopt;
	std::vector<uint8_t> out;
	for (size_t i = 0; i < text.size(); i += 4)
	{
		uint32_t bits = 0;
		int padding = 0;
		for (size_t j = 0; j < 4; ++j)
		{
			const char c = text[i + j];
			if (c == '=')
			{
				// Padding only in the last group, only in its last two places, and nothing but padding after it.
				if (i + 4 != text.size() || j < 2)
					return std::nullopt;
				++padding;
				bits <<= 6;
				continue;
			}
			const auto pos = alphabet.find(c);
			if (pos == std::string::npos || padding > 0)
				return std::nullopt;
			bits = (bits << 6) | static_cast<uint32_t>(pos);
		}
		out.push_back(static_cast<uint8_t>(bits >> 16));
		if (padding < 2)
			out.push_back(static_cast<uint8_t>(bits >> 8));
		if (padding < 1)
			out.push_back(static_cast<uint8_t>(bits));
	}
	return out;
}

} // namespace dnsproxy::app::text
