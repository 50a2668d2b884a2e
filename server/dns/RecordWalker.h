// RecordWalker.h - bounds-checked walk over the resource records of a message, shared by TtlWalker, Edns and Response.
#pragma once

#include "dns/Constants.h"
#include "dns/Header.h"
#include "dns/Name.h"

#include <cstddef>
#include <cstdint>

namespace dnsproxy::dns
{

/// One resource record as it sits in a message.
struct RecordView
{
	int section = 0; // 1 answer, 2 authority, 3 additional
	size_t ownerOffset = 0;
	size_t fixedOffset = 0; // type; class at +2, TTL at +4, rdlength at +8
	uint16_t type = 0;
	uint16_t klass = 0;
	uint32_t ttl = 0;
	size_t rdataOffset = 0;
	uint16_t rdlength = 0;

	size_t ttlOffset() const
	{
		return fixedOffset + 4;
	}
	size_t end() const
	{
		return rdataOffset + rdlength;
	}
};

/// Skips QDCOUNT questions, then calls visit(const RecordView&) for every RR in order; a visitor
/// returning false stops the walk early (result true). Returns false when the message is
/// malformed: bad names, records past the end, or bytes after the last record. Any QDCOUNT is
/// accepted here; parseMessage is the stricter gate. The names share one NameBudget, so a walk
/// costs time linear in `len` as a parse does.
template <typename Visitor> bool walkRecords(const uint8_t* data, size_t len, Visitor&& visit)
{
	const auto header = Header::parse(data, len);
	if (!header)
		return false;
	NameBudget budget(len);
	size_t pos = HEADER_SIZE;
	for (size_t i = 0; i < header->qdcount; ++i)
	{
		if (readName(data, len, pos, nullptr, nullptr, &budget) != ParseError::NONE || len - pos < 4)
			return false;
		pos += 4;
	}
	const size_t counts[3] = {header->ancount, header->nscount, header->arcount};
	for (int section = 1; section <= 3; ++section)
	{
		for (size_t i = 0; i < counts[section - 1]; ++i)
		{
			RecordView rr;
			rr.section = section;
			rr.ownerOffset = pos;
			if (readName(data, len, pos, nullptr, nullptr, &budget) != ParseError::NONE || len - pos < RR_FIXED_SIZE)
				return false;
			rr.fixedOffset = pos;
			rr.type = readU16(data + pos + RR_TYPE_OFFSET);
			rr.klass = readU16(data + pos + RR_CLASS_OFFSET);
			rr.ttl = readU32(data + pos + RR_TTL_OFFSET);
			rr.rdlength = readU16(data + pos + RR_RDLENGTH_OFFSET);
			rr.rdataOffset = pos + RR_FIXED_SIZE;
			if (rr.rdlength > len - rr.rdataOffset)
				return false;
			pos = rr.end();
			if (!visit(static_cast<const RecordView&>(rr)))
				return true;
		}
	}
	return pos == len;
}

} // namespace dnsproxy::dns
