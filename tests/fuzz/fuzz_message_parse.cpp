// fuzz_message_parse.cpp - fuzzes parseMessage and everything the proxy does to a message that parsed.
#include "FuzzCheck.h"
#include "dns/Edns.h"
#include "dns/Message.h"
#include "dns/Name.h"
#include "dns/Response.h"
#include "dns/TtlWalker.h"

#include <algorithm>
#include <cstdint>
#include <vector>

using namespace dnsproxy::dns;
using dnsproxy::fuzz::check;

namespace
{

MessageInfo mustParse(const std::vector<uint8_t>& msg, const char* what)
{
	MessageInfo info;
	check(parseMessage(msg.data(), msg.size(), info, true) == ParseError::NONE, what);
	return info;
}

void exerciseQuestionName(const uint8_t* data, size_t size, const MessageInfo& info)
{
	size_t offset = info.qnameOffset;
	std::vector<uint8_t> name;
	check(readName(data, size, offset, &name) == ParseError::NONE, "question name reads");
	check(offset == info.qnameOffset + info.qnameLength, "question name length");
	check(name.size() <= MAX_NAME_LENGTH, "name within 255 octets");
	const auto text = nameToString(name.data(), name.size());
	const auto back = nameFromString(text);
	check(back && *back == name, "name text round trip");
	std::vector<uint8_t> lower = name;
	toLowerWire(lower.data(), lower.size());
	check(namesEqualIgnoreCase(lower.data(), lower.size(), name.data(), name.size()), "lower-case compares equal");
}

void exerciseParsed(const uint8_t* data, size_t size, const MessageInfo& info)
{
	const size_t records = size_t(info.header.ancount) + info.header.nscount + info.header.arcount;
	size_t ttls = 0;
	check(forEachTtl(data, size,
					 [&](size_t offset, uint16_t, uint32_t) {
						 check(offset + 4 <= size, "ttl offset in bounds");
						 ++ttls;
					 }),
		  "forEachTtl accepts a parsed message");
	check(ttls == records - (info.edns.present ? 1 : 0), "one TTL per non-OPT record");

	// A name pointing into a TTL field (crafted input) may make ageing refuse; then nothing changes.
	std::vector<uint8_t> aged(data, data + size);
	if (ageTtls(aged.data(), aged.size(), 3600))
	{
		size_t agedTtls = 0;
		check(forEachTtl(aged.data(), aged.size(), [&](size_t, uint16_t, uint32_t) { ++agedTtls; }),
			  "aged message still walks");
		check(agedTtls == ttls, "aged message keeps its records");
	}
	else
	{
		check(std::equal(aged.begin(), aged.end(), data), "refused ageing changes nothing");
	}
	minimumTtl(data, size);
	negativeTtl(data, size);

	if (info.header.qdcount == 1)
		exerciseQuestionName(data, size, info);

	const std::vector<uint16_t> drop = {EdnsOptionCode::PADDING, EdnsOptionCode::TCP_KEEPALIVE};
	if (const auto rewritten = rewriteOpt(data, size, 1232, drop, {{EdnsOptionCode::TCP_KEEPALIVE, {0, 100}}}))
	{
		const MessageInfo out = mustParse(*rewritten, "rewritten message parses");
		check(out.edns.present && out.edns.hasKeepalive && !out.edns.hasPadding, "rewritten OPT options");
		check(out.edns.rrOffset + out.edns.rrLength == rewritten->size(), "rewritten OPT is last");
		check(out.header.arcount == info.header.arcount + (info.edns.present ? 0 : 1), "rewritten ARCOUNT");
		check(out.header.qdcount == info.header.qdcount && out.header.ancount == info.header.ancount,
			  "rewritten counts");
		if (info.edns.present)
			check(out.edns.dnssecOk == info.edns.dnssecOk, "DO kept");
	}
	if (const auto removed = removeOpt(data, size))
	{
		const MessageInfo out = mustParse(*removed, "message without OPT parses");
		check(!out.edns.present, "OPT removed");
	}
	if (const auto padded = padMessage(data, size, 128))
	{
		const MessageInfo out = mustParse(*padded, "padded message parses");
		check(padded->size() % 128 == 0, "padded to 128");
		check(out.edns.hasPadding, "padding option present");
	}
	const auto truncated = makeTruncated(data, size);
	check(truncated.has_value(), "a parsed answer can be truncated");
	const MessageInfo tc = mustParse(*truncated, "truncated answer parses");
	check(tc.header.tc() && tc.header.ancount == 0 && tc.header.nscount == 0, "truncated answer is empty");
	check(tc.edns.present == info.edns.present, "truncated answer keeps OPT");

	const auto error = makeErrorResponse(data, size, &info, Rcode::SERVFAIL);
	const MessageInfo err = mustParse(error, "error response parses");
	check(err.header.id == info.header.id && err.header.qdcount == info.header.qdcount, "error response question");
	check(err.header.rcode() == Rcode::SERVFAIL && err.edns.present == info.edns.present, "error response rcode");
}

/// What the pipeline reads of a query before its ACL decision agrees with the full parse.
void exerciseQuestionOnly(const uint8_t* data, size_t size, ParseError strictError, const MessageInfo& strict)
{
	MessageInfo head;
	const ParseError error = parseQuestion(data, size, head);
	if (error == ParseError::NONE)
	{
		const auto refused = makeErrorResponse(data, size, &head, Rcode::REFUSED);
		const MessageInfo out = mustParse(refused, "REFUSED from the question parses");
		check(out.header.qdcount == 1 && out.header.rcode() == Rcode::REFUSED, "REFUSED echoes the question");
	}
	if (strictError != ParseError::NONE || checkQueryCounts(strict.header) != ParseError::NONE)
		return;
	check(error == ParseError::NONE, "a valid query's question reads alone");
	check(head.questionEnd == strict.questionEnd && head.qtype == strict.qtype && head.qclass == strict.qclass,
		  "question alone matches the full parse");
	check(head.edns.present == strict.edns.present, "lone OPT seen without the full parse");
	if (head.edns.present)
		check(head.edns.udpPayloadSize == strict.edns.udpPayloadSize && head.edns.dnssecOk == strict.edns.dnssecOk,
			  "lone OPT fields match");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	const dnsproxy::fuzz::CostGuard costGuard;
	MessageInfo strict;
	const ParseError strictError = parseMessage(data, size, strict);
	exerciseQuestionOnly(data, size, strictError, strict);
	MessageInfo info;
	const ParseError error = parseMessage(data, size, info, true);
	if (error == ParseError::NONE)
	{
		exerciseParsed(data, size, info);
	}
	else
	{
		check(!rewriteOpt(data, size, 1232, {}, {}).has_value(), "rewriteOpt refuses malformed input");
		check(!padMessage(data, size, 128).has_value(), "padMessage refuses malformed input");
		check(!makeTruncated(data, size).has_value(), "makeTruncated refuses malformed input");
	}
	if (size >= HEADER_SIZE)
	{
		const auto formerr = makeErrorResponse(data, size, nullptr, Rcode::FORMERR);
		const MessageInfo out = mustParse(formerr, "FORMERR parses");
		check(formerr.size() == HEADER_SIZE && out.header.qr(), "header-only FORMERR");
	}
	else
	{
		check(makeErrorResponse(data, size, nullptr, Rcode::FORMERR).empty(), "silence without a header");
	}
	return 0;
}
