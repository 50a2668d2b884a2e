// Message.cpp - single-pass, allocation-free validation of a DNS message.
#include "dns/Message.h"

#include "dns/Name.h"

namespace dnsproxy::dns
{

namespace
{

constexpr size_t RR_FIXED_SIZE = 10; // type, class, ttl, rdlength

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

} // namespace

ParseError parseMessage(const uint8_t* data, size_t len, MessageInfo& out, bool allowNoQuestion)
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

	size_t pos = HEADER_SIZE;
	if (header->qdcount == 1)
	{
		bool compressed = false;
		const ParseError error = readName(data, len, pos, nullptr, &compressed);
		if (error != ParseError::NONE)
			return error;
		out.qnameLength = pos - HEADER_SIZE;
		out.qnameCompressed = compressed;
		if (len - pos < 4)
			return ParseError::TRUNCATED;
		out.qtype = readU16(data + pos);
		out.qclass = readU16(data + pos + 2);
		pos += 4;
	}
	out.questionEnd = pos;
	out.answerStart = pos;

	const size_t answersAndAuthority = size_t(header->ancount) + header->nscount;
	const size_t total = answersAndAuthority + header->arcount;
	for (size_t i = 0; i < total; ++i)
	{
		const size_t rrStart = pos;
		const ParseError error = readName(data, len, pos);
		if (error != ParseError::NONE)
			return error;
		if (len - pos < RR_FIXED_SIZE)
			return ParseError::TRUNCATED;
		const uint16_t type = readU16(data + pos);
		const uint16_t rdlength = readU16(data + pos + 8);
		const size_t rdataStart = pos + RR_FIXED_SIZE;
		if (rdlength > len - rdataStart)
			return ParseError::TRUNCATED;
		if (type == Type::OPT)
		{
			// RFC 6891 6.1.1: one OPT, in the additional section, owned by the root.
			if (i < answersAndAuthority || out.edns.present || pos != rrStart + 1)
				return ParseError::BAD_OPT;
			EdnsInfo& edns = out.edns;
			edns.present = true;
			edns.udpPayloadSize = readU16(data + pos + 2);
			const uint32_t ttl = readU32(data + pos + 4);
			edns.extendedRcode = static_cast<uint8_t>(ttl >> 24);
			edns.version = static_cast<uint8_t>(ttl >> 16);
			edns.dnssecOk = (ttl & 0x8000) != 0;
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
