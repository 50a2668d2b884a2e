// fuzz_doh_request.cpp - fuzzes the DoH request rules (frontend/doh/DohRequest): the head checks,
// the base64url decoder of GET ?dns= and the max-age walk of answers, on hostile input.
#include "FuzzCheck.h"
#include "frontend/doh/DohRequest.h"

#include <cstdint>
#include <string_view>

using namespace dnsproxy::frontend::doh;
using dnsproxy::fuzz::check;

namespace
{
/// The next '\n'-terminated field of the input (the rest when there is no '\n').
std::string_view field(std::string_view& rest)
{
	const size_t end = rest.find('\n');
	std::string_view out = rest.substr(0, end);
	rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
	return out;
}
} // namespace

// Input: "method\ntarget\ncontent-type\n" then bytes used as a POST body / DNS answer.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	const dnsproxy::fuzz::CostGuard costGuard;
	std::string_view rest(reinterpret_cast<const char*>(data), size);
	const std::string_view method = field(rest);
	const std::string_view target = field(rest);
	const std::string_view contentType = field(rest);

	DohSettings settings;
	settings.maxRequestBytes = 512; // small, so that the 413 paths are reached
	const HeadVerdict verdict = checkHead(settings, method, target, contentType);
	const int s = verdict.status;
	check(s == 0 || s == HTTP_BAD_REQUEST || s == HTTP_NOT_FOUND || s == HTTP_METHOD_NOT_ALLOWED ||
			  s == HTTP_PAYLOAD_TOO_LARGE || s == HTTP_UNSUPPORTED_MEDIA_TYPE,
		  "checkHead answers a status of the list");
	if (s == 0 && !verdict.expectsBody)
		check(verdict.query.size() >= MIN_DNS_MESSAGE && verdict.query.size() <= settings.maxRequestBytes,
			  "a GET query within the message size limits");
	if (s != 0 || verdict.expectsBody)
		check(verdict.query.empty(), "no query without a GET verdict of 0");

	const int bodyStatus = checkBodyLength(settings, rest.size());
	check((bodyStatus == 0) == (rest.size() >= MIN_DNS_MESSAGE && rest.size() <= settings.maxRequestBytes),
		  "checkBodyLength accepts exactly the message sizes");

	if (const auto decoded = decodeBase64Url(target))
		check(decoded->size() <= target.size() * 3 / 4 + 2, "base64url yields at most 3 octets per 4 characters");

	(void)cacheMaxAge(reinterpret_cast<const uint8_t*>(rest.data()), rest.size());
	return 0;
}
