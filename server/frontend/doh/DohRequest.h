// DohRequest.h - the RFC 8484 request and response rules shared by the HTTP/2 and HTTP/1.1 sessions.
#pragma once

#include "frontend/doh/DohSession.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dnsproxy::frontend::doh
{

constexpr int HTTP_OK = 200;
constexpr int HTTP_BAD_REQUEST = 400;
constexpr int HTTP_NOT_FOUND = 404;
constexpr int HTTP_METHOD_NOT_ALLOWED = 405;
constexpr int HTTP_LENGTH_REQUIRED = 411;
constexpr int HTTP_PAYLOAD_TOO_LARGE = 413;
constexpr int HTTP_UNSUPPORTED_MEDIA_TYPE = 415;
constexpr int HTTP_HEADERS_TOO_LARGE = 431;
constexpr int HTTP_NOT_IMPLEMENTED = 501;

/// RFC 8484 6: the media type of DNS messages.
constexpr const char* DNS_MESSAGE_TYPE = "application/dns-message";
/// What a 405 names in its Allow header.
constexpr const char* ALLOWED_METHODS = "GET, POST";
/// RFC 1035 4.1.1: a DNS message is at least its header.
constexpr size_t MIN_DNS_MESSAGE = 12;

/// What the request head says. status 0 = go on: a POST waits for its body (expectsBody), a GET
/// carries its query in `query`. Otherwise the status to answer at once.
struct HeadVerdict
{
	int status = 0;
	bool expectsBody = false;
	std::vector<uint8_t> query;
};

/// Applies the rules of the request head in this order: path (404), method (405), POST
/// content type (415), GET ?dns= (400, 413 by encoded length before decoding, 400 below 12
/// octets). `target` is the request target as sent (origin form, or absolute form whose scheme
/// and authority are skipped).
HeadVerdict checkHead(const DohSettings& settings, std::string_view method, std::string_view target,
					  std::string_view contentType);

/// A complete POST body of `length` octets: 0 when it is a DNS message size, else 413 or 400.
int checkBodyLength(const DohSettings& settings, size_t length);

/// Decodes base64url (RFC 4648 5), with or without '=' padding; nullopt for any other
/// character, misplaced padding or an impossible length.
std::optional<std::vector<uint8_t>> decodeBase64Url(std::string_view text);

/// RFC 8484 5.1: the smallest TTL of the answer, authority and additional records (OPT
/// excluded); for an answer without answer records the SOA's min(TTL, MINIMUM) also caps it
/// (RFC 2308 5). 0 when there is no record or the message does not parse.
uint32_t cacheMaxAge(const uint8_t* dns, size_t length);

/// "OK", "Not Found", ...; "Unknown" for codes not listed.
const char* reasonPhrase(int status);

} // namespace dnsproxy::frontend::doh
