// Response.h - answers the proxy makes itself: error responses (FORMERR, SERVFAIL, ...) and TC=1 truncated answers.
#pragma once

#include "dns/Message.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace dnsproxy::dns
{

/// Error answer for a query: the client's ID, QR=1, opcode, RD and CD copied from the query,
/// RA=1, `rcode`. The question is copied (decompressed) when `info` describes a parsed question;
/// pass nullptr when only the header could be read (then QDCOUNT=0). An OPT with `udpSize`, no
/// options and DO copied is added when the query had EDNS (RFC 6891 7: never otherwise). Rcodes
/// above 15 go into the OPT's extended rcode; without EDNS they cannot be expressed and become
/// SERVFAIL. Returns an empty vector when `len` < 12 (nothing to answer: stay silent).
std::vector<uint8_t> makeErrorResponse(const uint8_t* query, size_t len, const MessageInfo* info, uint8_t rcode,
									   uint16_t udpSize = 1232);

/// TC=1 answer (RFC 1035 4.2.1, RFC 7766 5): the header of `answer` (ID, flags, rcode) with TC
/// set, its question, its OPT (if any) and no other records. nullopt if malformed.
std::optional<std::vector<uint8_t>> makeTruncated(const uint8_t* answer, size_t len);

} // namespace dnsproxy::dns
