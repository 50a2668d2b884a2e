// Header.cpp - parsing and writing of the 12-byte DNS header.
#include "dns/Header.h"

namespace dnsproxy::dns
{

void Header::setOpcode(uint8_t opcode)
{
	flags = static_cast<uint16_t>((flags & ~(OPCODE_MASK << OPCODE_SHIFT)) | ((opcode & OPCODE_MASK) << OPCODE_SHIFT));
}

void Header::setRcode(uint8_t rcode)
{
	flags = static_cast<uint16_t>((flags & ~RCODE_MASK) | (rcode & RCODE_MASK));
}

std::optional<Header> Header::parse(const uint8_t* data, size_t len)
{
	if (data == nullptr || len < HEADER_SIZE)
		return std::nullopt;
	Header h;
	h.id = readU16(data + ID_OFFSET);
	h.flags = readU16(data + FLAGS_OFFSET);
	h.qdcount = readU16(data + QDCOUNT_OFFSET);
	h.ancount = readU16(data + ANCOUNT_OFFSET);
	h.nscount = readU16(data + NSCOUNT_OFFSET);
	h.arcount = readU16(data + ARCOUNT_OFFSET);
	return h;
}

void Header::write(uint8_t* out) const
{
	writeU16(out + ID_OFFSET, id);
	writeU16(out + FLAGS_OFFSET, flags);
	writeU16(out + QDCOUNT_OFFSET, qdcount);
	writeU16(out + ANCOUNT_OFFSET, ancount);
	writeU16(out + NSCOUNT_OFFSET, nscount);
	writeU16(out + ARCOUNT_OFFSET, arcount);
}

} // namespace dnsproxy::dns
