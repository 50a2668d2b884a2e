// Message.cpp - single-pass, allocation-free validation of a DNS message.
#include "dns/Message.h"

#include "dns/Name.h"

namespace dnsproxy::dns
{

namespace
{

constexpr size_t QUESTION_FIXED_SIZE = 4; // qtype, qclass

ParseError parseOptions(const uint8_t* data, size_t start, size_t end, EdnsInfo& edns)
{
	size_t pos = start;
	while (pos < end)
	{
		if (end - pos < 4)
			return ParseError::BAD_OPT;
		const uint16_t code = readU16(data + pos);
		const uint16_t length = readU16(data + pos + 2);
		pos += 4;
		if (length > end - pos)
			return ParseError::BAD_OPT;
		if (code == EdnsOptionCode::TCP_KEEPALIVE)
		{
			edns.hasKeepalive = true;
			if (length == 2)
				edns.keepaliveTimeout = readU16(data + pos);
		}
		else if (code == EdnsOptionCode::PADDING)
		{
			edns.hasPadding = true;
		}
		pos += length;
	}
	return ParseError::NONE;
}

/// The header and, when QDCOUNT is 1, the first question into `out`; `pos` ends after them.
ParseError readHeaderAndQuestion(const uint8_t* data, size_t len, MessageInfo& out, bool allowNoQuestion, size_t& pos,
								 NameBudget* budget)
{
	out = MessageInfo();
	const auto header = Header::parse(data, len);
	if (!header)
		return ParseError::TRUNCATED;
	out.header = *header;
	if (header->qdcount == 0 && !allowNoQuestion)
		return ParseError::NO_QUESTION;
	if (header->qdcount > 1)
		return ParseError::TOO_MANY_QUESTIONS;

	pos = HEADER_SIZE;
	if (header->qdcount == 1)
	{
		bool compressed = false;
		const ParseError error = readName(data, len, pos, nullptr, &compressed, budget);
		if (error != ParseError::NONE)
			return error;
		out.qnameLength = pos - HEADER_SIZE;
		out.qnameCompressed = compressed;
		if (len - pos < QUESTION_FIXED_SIZE)
			return ParseError::TRUNCATED;
		out.qtype = readU16(data + pos);
		out.qclass = readU16(data + pos + 2);
		pos += QUESTION_FIXED_SIZE;
	}
	out.questionEnd = pos;
	out.answerStart = pos;
	return ParseError::NONE;
}

/// The fixed fields of an OPT RR whose TYPE sits at `fixed` (RFC 6891 6.1.2, 6.1.3).
void readOptFixed(const uint8_t* data, size_t fixed, EdnsInfo& edns)
{
	edns.present = true;
	edns.udpPayloadSize = readU16(data + fixed + 2);
	const uint32_t ttl = readU32(data + fixed + 4);
	edns.extendedRcode = static_cast<uint8_t>(ttl >> 24);
	edns.version = static_cast<uint8_t>(ttl >> 16);
	edns.dnssecOk = (ttl & 0x8000) != 0;
}

} // namespace

ParseError checkQueryCounts(const Header& header)
{
	if (header.qdcount == 0)
		return ParseError::NO_QUESTION;
	if (header.qdcount > 1)
		return ParseError::TOO_MANY_QUESTIONS;
	if (header.ancount != 0 || header.nscount != 0 || header.arcount > MAX_QUERY_ADDITIONAL)
		return ParseError::QUERY_HAS_RECORDS;
	return ParseError::NONE;
}

ParseError parseQuestion(const uint8_t* data, size_t len, MessageInfo& out)
{
	size_t pos = HEADER_SIZE;
	const ParseError error = readHeaderAndQuestion(data, len, out, false, pos, nullptr);
	if (error != ParseError::NONE)
		return error;
	// A lone root-owned OPT right after the question: a constant number of octets to look at.
	if (checkQueryCounts(out.header) == ParseError::NONE && out.header.arcount == 1 && len - pos >= 1 + RR_FIXED_SIZE &&
		data[pos] == 0 && readU16(data + pos + 1) == Type::OPT)
		readOptFixed(data, pos + 1, out.edns);
	return ParseError::NONE;
}

ParseError parseMessage(const uint8_t* data, size_t len, MessageInfo& out, bool allowNoQuestion)
{
	NameBudget budget(len);
	return parseMessage(data, len, out, allowNoQuestion, budget);
}

ParseError parseMessage(const uint8_t* data, size_t len, MessageInfo& out, bool allowNoQuestion, NameBudget& budget)
{
	size_t pos = HEADER_SIZE;
	const ParseError questionError = readHeaderAndQuestion(data, len, out, allowNoQuestion, pos, &budget);
	if (questionError != ParseError::NONE)
		return questionError;
	const Header& header = out.header;

	const size_t answersAndAuthority = size_t(header.ancount) + header.nscount;
	const size_t total = answersAndAuthority + header.arcount;
	for (size_t i = 0; i < total; ++i)
	{
		const size_t rrStart = pos;
		const ParseError error = readName(data, len, pos, nullptr, nullptr, &budget);
		if (error != ParseError::NONE)
			return error;
		if (len - pos < RR_FIXED_SIZE)
			return ParseError::TRUNCATED;
		const uint16_t type = readU16(data + pos);
		const uint16_t rdlength = readU16(data + pos + RR_RDLENGTH_OFFSET);
		const size_t rdataStart = pos + RR_FIXED_SIZE;
		if (rdlength > len - rdataStart)
			return ParseError::TRUNCATED;
		if (type == Type::OPT)
		{
			// RFC 6891 6.1.1: one OPT, in the additional section, owned by the root.
			if (i < answersAndAuthority || out.edns.present || pos != rrStart + 1)
				return ParseError::BAD_OPT;
			EdnsInfo& edns = out.edns;
			readOptFixed(data, pos, edns);
			edns.rrOffset = rrStart;
			edns.rrLength = rdataStart + rdlength - rrStart;
			const ParseError optError = parseOptions(data, rdataStart, rdataStart + rdlength, edns);
			if (optError != ParseError::NONE)
				return optError;
		}
		pos = rdataStart + rdlength;
	}
	if (pos != len)
		return ParseError::TRAILING_DATA;
	return ParseError::NONE;
}

} // namespace dnsproxy::dns
