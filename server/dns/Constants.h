// Constants.h - DNS wire-format constants (types, classes, rcodes) and the ParseError status of server/dns.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dnsproxy::dns
{

namespace Type
{
constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28, SRV = 33, OPT = 41,
				   DS = 43, RRSIG = 46, DNSKEY = 48, HTTPS = 65, ANY = 255;
} // namespace Type

namespace Class
{
constexpr uint16_t IN = 1, CH = 3, ANY = 255;
} // namespace Class

namespace Rcode
{
constexpr uint8_t NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4, REFUSED = 5;
} // namespace Rcode

namespace Opcode
{
constexpr uint8_t QUERY = 0;
} // namespace Opcode

namespace EdnsOptionCode
{
constexpr uint16_t CLIENT_SUBNET = 8, COOKIE = 10, TCP_KEEPALIVE = 11, PADDING = 12;
} // namespace EdnsOptionCode

constexpr size_t HEADER_SIZE = 12;
/// A resource record after its owner name (RFC 1035 4.1.3): type, class, ttl, rdlength, then rdata.
constexpr size_t RR_TYPE_OFFSET = 0, RR_CLASS_OFFSET = 2, RR_TTL_OFFSET = 4, RR_RDLENGTH_OFFSET = 8;
constexpr size_t RR_FIXED_SIZE = 10;
constexpr size_t MAX_NAME_LENGTH = 255;
constexpr size_t MAX_LABEL_LENGTH = 63;
/// Largest DNS message (the TCP length prefix is 16 bits, RFC 1035 4.2.2).
constexpr size_t MAX_MESSAGE_SIZE = 65535;

enum class ParseError
{
	NONE,
	TRUNCATED,
	BAD_LABEL,
	NAME_TOO_LONG,
	BAD_POINTER,
	POINTER_LOOP,
	NO_QUESTION,
	TOO_MANY_QUESTIONS,
	BAD_OPT,
	TRAILING_DATA,
	TOO_MANY_POINTERS,    ///< one name followed more than MAX_POINTER_JUMPS pointers (Name.h)
	NAME_BUDGET_EXCEEDED, ///< the names of one message took more than NAME_STEPS_PER_OCTET steps per octet
	QUERY_HAS_RECORDS     ///< a query with answer or authority records, or more additional ones than its OPT
};

/// Stable lower-case name for logs and stats, e.g. "pointer_loop".
const char* toString(ParseError error);

/// Big-endian helpers; callers check bounds first.
inline uint16_t readU16(const uint8_t* p)
{
	return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

inline uint32_t readU32(const uint8_t* p)
{
	return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
		   (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

inline void writeU16(uint8_t* p, uint16_t v)
{
	p[0] = static_cast<uint8_t>(v >> 8);
	p[1] = static_cast<uint8_t>(v);
}

inline void writeU32(uint8_t* p, uint32_t v)
{
	p[0] = static_cast<uint8_t>(v >> 24);
	p[1] = static_cast<uint8_t>(v >> 16);
	p[2] = static_cast<uint8_t>(v >> 8);
	p[3] = static_cast<uint8_t>(v);
}

} // namespace dnsproxy::dns
