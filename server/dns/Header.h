// Header.h - the 12-byte DNS message header (RFC 1035 4.1.1) with flag accessors and in-place ID helpers.
#pragma once

#include "dns/Constants.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace dnsproxy::dns
{

/// Plain value type; flags are kept as the raw 16-bit word so that bits we do not
/// know (Z) survive a parse/write round trip.
struct Header
{
	uint16_t id = 0;
	uint16_t flags = 0;
	uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

	static constexpr uint16_t QR = 0x8000, AA = 0x0400, TC = 0x0200, RD = 0x0100, RA = 0x0080, AD = 0x0020, CD = 0x0010;
	/// The flag word's 4-bit RCODE (bits 0-3) and OPCODE (bits 11-14).
	static constexpr uint16_t RCODE_MASK = 0x000F, OPCODE_MASK = 0x0F, OPCODE_SHIFT = 11;

	/// Byte offsets of the fields in a message (RFC 1035 4.1.1).
	static constexpr size_t ID_OFFSET = 0, FLAGS_OFFSET = 2, QDCOUNT_OFFSET = 4, ANCOUNT_OFFSET = 6, NSCOUNT_OFFSET = 8,
							ARCOUNT_OFFSET = 10;

	bool qr() const
	{
		return flags & QR;
	}
	uint8_t opcode() const
	{
		return static_cast<uint8_t>((flags >> OPCODE_SHIFT) & OPCODE_MASK);
	}
	bool aa() const
	{
		return flags & AA;
	}
	bool tc() const
	{
		return flags & TC;
	}
	bool rd() const
	{
		return flags & RD;
	}
	bool ra() const
	{
		return flags & RA;
	}
	bool ad() const
	{
		return flags & AD;
	}
	bool cd() const
	{
		return flags & CD;
	}
	/// The 4-bit header RCODE; EDNS extends it with the OPT's upper 8 bits (RFC 6891 6.1.3).
	uint8_t rcode() const
	{
		return static_cast<uint8_t>(flags & RCODE_MASK);
	}

	void setQr(bool on)
	{
		setFlag(QR, on);
	}
	void setTc(bool on)
	{
		setFlag(TC, on);
	}
	void setRa(bool on)
	{
		setFlag(RA, on);
	}
	void setAa(bool on)
	{
		setFlag(AA, on);
	}
	void setRd(bool on)
	{
		setFlag(RD, on);
	}
	void setAd(bool on)
	{
		setFlag(AD, on);
	}
	void setCd(bool on)
	{
		setFlag(CD, on);
	}
	void setOpcode(uint8_t opcode);
	/// Only the low 4 bits go into the header.
	void setRcode(uint8_t rcode);

	/// nullopt when len < 12.
	static std::optional<Header> parse(const uint8_t* data, size_t len);
	/// Writes exactly HEADER_SIZE bytes.
	void write(uint8_t* out) const;

private:
	void setFlag(uint16_t bit, bool on)
	{
		flags = on ? static_cast<uint16_t>(flags | bit) : static_cast<uint16_t>(flags & ~bit);
	}
};

/// Message ID, big-endian at offset 0; the caller guarantees at least 2 bytes.
inline uint16_t readId(const uint8_t* msg)
{
	return readU16(msg + Header::ID_OFFSET);
}

inline void writeId(uint8_t* msg, uint16_t id)
{
	writeU16(msg + Header::ID_OFFSET, id);
}

/// The 4-bit header RCODE of a message of at least HEADER_SIZE bytes, without parsing it.
inline uint8_t readRcode(const uint8_t* msg)
{
	return static_cast<uint8_t>(readU16(msg + Header::FLAGS_OFFSET) & Header::RCODE_MASK);
}

/// Rewrites ARCOUNT in place; the caller guarantees at least HEADER_SIZE bytes.
inline void writeArcount(uint8_t* msg, uint16_t arcount)
{
	writeU16(msg + Header::ARCOUNT_OFFSET, arcount);
}

} // namespace dnsproxy::dns
