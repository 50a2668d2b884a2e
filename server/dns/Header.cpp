// Header.cpp - parsing and writing of the 12-byte DNS header.
#include "dns/Header.h"

namespace dnsproxy::dns
{

void Header::setOpcode(uint8_t opcode)
{
	flags = static_cast<uint16_t>((flags & ~0x7800) | ((opcode & 0x0F) << 11));
}

void Header::setRcode(uint8_t rcode)
{
	flags = static_cast<uint16_t>((flags & ~0x000F) | (rcode & 0x0F));
}

std::optional<Header> Header::parse(const uint8_t* data, size_t len)
{
	if (data == nullptr || len < HEADER_SIZE)
		return std::nullopt;
	Header h;
	h.id = readU16(data);
	h.flags = readU16(data + 2);
	h.qdcount = readU16(data + 4);
	h.ancount = readU16(data + 6);
	h.nscount = readU16(data + 8);
	h.arcount = readU16(data + 10);
	return h;
}

void Header::write(uint8_t* out) const
{
	writeU16(out, id);
	writeU16(out + 2, flags);
	writeU16(out + 4, qdcount);
	writeU16(out + 6, ancount);
	writeU16(out + 8, nscount);
	writeU16(out + 10, arcount);
}

} // namespace dnsproxy::dns
