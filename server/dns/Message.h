// Message.h - one-pass validation and summary of a whole DNS message (query or response), EDNS included.
#pragma once

#include "dns/Constants.h"
#include "dns/Header.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace dnsproxy::dns
{

/// What the OPT pseudo-RR (RFC 6891 6.1) says, and where it sits.
struct EdnsInfo
{
	bool present = false;
	uint16_t udpPayloadSize = 0;
	uint8_t extendedRcode = 0; // upper 8 bits of the 12-bit rcode
	uint8_t version = 0;
	bool dnssecOk = false;
	size_t rrOffset = 0, rrLength = 0;        // the whole OPT RR (owner..rdata) in the message
	bool hasKeepalive = false;                // RFC 7828
	bool hasPadding = false;                  // RFC 7830
	std::optional<uint16_t> keepaliveTimeout; // units of 100 ms, when the option carries 2 bytes
};

struct MessageInfo
{
	Header header;
	/// The first question's name as stored. Pointers into the header are rejected, so a
	/// valid first question is never compressed in practice; the flag is kept for callers.
	size_t qnameOffset = HEADER_SIZE;
	size_t qnameLength = 0;
	bool qnameCompressed = false;
	uint16_t qtype = 0, qclass = 0;
	size_t questionEnd = HEADER_SIZE; // just after the first question's qclass
	EdnsInfo edns;
	size_t answerStart = HEADER_SIZE; // first answer RR
};

/// Validates the header, the question and every RR (owner names, rdlength within bounds,
/// exactly the counted number of records), at most one OPT and only in the additional section
/// with a literal root owner and well-formed options; fills `out`. QDCOUNT must be exactly 1
/// unless allowNoQuestion (then 0 is fine too and out.qtype stays 0). Bytes after the last
/// record give TRAILING_DATA. RDATA contents are not interpreted (besides OPT). Allocates nothing.
ParseError parseMessage(const uint8_t* data, size_t len, MessageInfo& out, bool allowNoQuestion = false);

} // namespace dnsproxy::dns
