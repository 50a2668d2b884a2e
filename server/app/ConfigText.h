// ConfigText.h - small text helpers of the INI loader: trimming, lists, numbers, names, base64, errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::app::text
{

std::string trim(const std::string& text);

std::string lower(std::string text);

std::string quoted(const std::string& text);

/// Cuts `value ; comment`: a ';' that opens the value or follows whitespace starts a comment.
std::string stripInlineComment(const std::string& value);

/// Comma-separated list; items trimmed, empty items (a trailing comma) dropped.
std::vector<std::string> splitList(const std::string& value);

std::string join(const std::vector<std::string>& items);

bool allDigits(const std::string& text);

/// Decimal digits only, no sign; nullopt if not a number or above max.
std::optional<unsigned long long> parseNumber(const std::string& text, unsigned long long max);

/// Letters, digits, '-' and '_' in labels of 1..63 octets, 253 in all, an optional final dot (RFC 1035 2.3.4).
bool isHostName(const std::string& name);

/// Strict RFC 4648 section 4 base64 (standard alphabet, '=' padding required).
std::optional<std::vector<uint8_t>> decodeBase64(const std::string& text);

/// Throws ConfigError("<where>: <reason>"): where is "section.key", a file path or "-D ...".
[[noreturn]] void fail(const std::string& where, const std::string& reason);

} // namespace dnsproxy::app::text
