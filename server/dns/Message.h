// Message.h - one-pass validation and summary of a whole DNS message (query or response), EDNS included.
#pragma once

#include "dns/Constants.h"
#include "dns/Header.h"
#include "dns/Name.h"

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
/// Cost is linear in `len`: the owner names share one NameBudget (NAME_BUDGET_EXCEEDED).
ParseError parseMessage(const uint8_t* data, size_t len, MessageInfo& out, bool allowNoQuestion = false);
/// The same with the caller's budget, so a test can count the work done.
ParseError parseMessage(const uint8_t* data, size_t len, MessageInfo& out, bool allowNoQuestion, NameBudget& budget);

/// Records a query may carry in its additional section: its OPT (RFC 6891). TSIG and SIG(0)
/// (RFC 8945, RFC 2931) sign the message ID, which a forwarder rewrites, so they could not be
/// passed on anyway; unbound answers FORMERR to ARCOUNT > 1 too (daemon/worker.c).
constexpr uint16_t MAX_QUERY_ADDITIONAL = 1;

/// The counts a query must have, checked from the header alone before any name is read:
/// QDCOUNT 1 (NO_QUESTION, TOO_MANY_QUESTIONS), no answer or authority records and at most
/// MAX_QUERY_ADDITIONAL additional ones (QUERY_HAS_RECORDS). A QUERY carries nothing in the
/// answer and authority sections (RFC 1035 4.1.1); unbound answers such requests FORMERR, and
/// refusing them here means their records are never walked.
ParseError checkQueryCounts(const Header& header);

/// Reads the header and, when QDCOUNT is 1, the first question and nothing else: enough to
/// answer REFUSED or NOTIMP with the question echoed, at the cost of one name. The first name
/// of a message cannot be compressed (a pointer before it would point into the header), so this
/// is at most 255 octets of labels whatever the rest of the message holds. When the message is
/// shaped like a query (checkQueryCounts) and the octets right after the question are a
/// root-owned OPT, out.edns.present, udpPayloadSize and dnssecOk are set too (options are not
/// read), so the error answer can carry an OPT as RFC 6891 6.1.1 asks. NO_QUESTION when
/// QDCOUNT is 0, TOO_MANY_QUESTIONS above 1; records are never looked at.
ParseError parseQuestion(const uint8_t* data, size_t len, MessageInfo& out);

} // namespace dnsproxy::dns
