// DohRequest.cpp - the RFC 8484 request and response rules shared by the HTTP/2 and HTTP/1.1 sessions.
#include "frontend/doh/DohRequest.h"

#include "dns/Header.h"
#include "dns/TtlWalker.h"

#include <algorithm>
#include <cctype>

namespace dnsproxy::frontend::doh
{

namespace
{

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
	return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
			   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
		   });
}

std::string_view trim(std::string_view text)
{
	while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
		text.remove_prefix(1);
	while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
		text.remove_suffix(1);
	return text;
}

/// The media type without parameters (RFC 9110 8.3.1), compared case-insensitively.
bool isDnsMessageType(std::string_view contentType)
{
	return equalsIgnoreCase(trim(contentType.substr(0, contentType.find(';'))), DNS_MESSAGE_TYPE);
}

/// Skips "scheme://authority" of an absolute-form target (RFC 9112 3.2.2).
std::string_view originForm(std::string_view target)
{
	const size_t scheme = target.find("://");
	if (target.empty() || target.front() == '/' || scheme == std::string_view::npos)
		return target;
	const size_t path = target.find_first_of("/?", scheme + 3);
	return path == std::string_view::npos ? std::string_view("/") : target.substr(path);
}

/// The value of the first `name=` parameter of a query string, or nullopt.
std::optional<std::string_view> queryParameter(std::string_view query, std::string_view name)
{
	while (!query.empty())
	{
		const size_t end = query.find('&');
		const std::string_view pair = query.substr(0, end);
		if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
			return pair.substr(name.size() + 1);
		if (end == std::string_view::npos)
			break;
		query.remove_prefix(end + 1);
	}
	return std::nullopt;
}

int base64UrlValue(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

HeadVerdict checkGet(const DohSettings& settings, std::string_view queryString)
{
	HeadVerdict verdict;
	const auto encoded = queryParameter(queryString, "dns");
	if (!encoded || encoded->empty())
	{
		verdict.status = HTTP_BAD_REQUEST;
		return verdict;
	}
	// Four characters per three octets, padding included: a longer parameter cannot decode to
	// maxRequestBytes or less, so it is refused without being decoded.
	const size_t maxEncoded = (settings.maxRequestBytes + 2) / 3 * 4;
	if (encoded->size() > maxEncoded)
	{
		verdict.status = HTTP_PAYLOAD_TOO_LARGE;
		return verdict;
	}
	auto decoded = decodeBase64Url(*encoded);
	if (!decoded)
		verdict.status = HTTP_BAD_REQUEST;
	else if ((verdict.status = checkBodyLength(settings, decoded->size())) == 0)
		verdict.query = std::move(*decoded);
	return verdict;
}

} // namespace

HeadVerdict checkHead(const DohSettings& settings, std::string_view method, std::string_view target,
					  std::string_view contentType)
{
	HeadVerdict verdict;
	const std::string_view origin = originForm(target);
	const size_t question = origin.find('?');
	if (origin.substr(0, question) != settings.path)
		verdict.status = HTTP_NOT_FOUND;
	else if (method == "POST")
	{
		if (isDnsMessageType(contentType))
			verdict.expectsBody = true;
		else
			verdict.status = HTTP_UNSUPPORTED_MEDIA_TYPE;
	}
	else if (method == "GET")
		return checkGet(settings,
						question == std::string_view::npos ? std::string_view() : origin.substr(question + 1));
	else
		verdict.status = HTTP_METHOD_NOT_ALLOWED;
	return verdict;
}

int checkBodyLength(const DohSettings& settings, size_t length)
{
	if (length > settings.maxRequestBytes)
		return HTTP_PAYLOAD_TOO_LARGE;
	if (length < MIN_DNS_MESSAGE)
		return HTTP_BAD_REQUEST;
	return 0;
}

std::optional<std::vector<uint8_t>> decodeBase64Url(std::string_view text)
{
	if (text.size() % 4 == 0 && !text.empty())
	{
		// Padding, when present, only completes the last quantum.
		for (int i = 0; i < 2 && !text.empty() && text.back() == '='; ++i)
			text.remove_suffix(1);
	}
	if (text.size() % 4 == 1)
		return std::nullopt;
	std::vector<uint8_t> out;
	out.reserve(text.size() * 3 / 4);
	uint32_t bits = 0;
	int count = 0;
	for (const char c : text)
	{
		const int value = base64UrlValue(c);
		if (value < 0)
			return std::nullopt;
		bits = (bits << 6) | static_cast<uint32_t>(value);
		count += 6;
		if (count >= 8)
		{
			count -= 8;
			out.push_back(static_cast<uint8_t>(bits >> count));
			bits &= (1u << count) - 1;
		}
	}
	return out;
}

uint32_t cacheMaxAge(const uint8_t* dns, size_t length)
{
	const auto smallest = dns::minimumTtl(dns, length);
	if (!smallest)
		return 0;
	uint32_t maxAge = *smallest;
	const auto header = dns::Header::parse(dns, length);
	if (header && header->ancount == 0)
	{
		if (const auto negative = dns::negativeTtl(dns, length))
			maxAge = std::min(maxAge, *negative);
	}
	return maxAge;
}

const char* reasonPhrase(int status)
{
	switch (status)
	{
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Unknown";
	}
}

} // namespace dnsproxy::frontend::doh
