// Edns.h - rewriting the EDNS OPT pseudo-RR of a message: options (RFC 6891), keepalive (RFC 7828), padding (RFC
// 7830/8467).
#pragma once

#include "dns/Message.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace dnsproxy::dns
{

struct EdnsOption
{
	uint16_t code;
	std::vector<uint8_t> data;
};

/// UDP payload size used when an OPT has to be created and the caller gave none (DNS flag day 2020).
constexpr uint16_t DEFAULT_UDP_PAYLOAD_SIZE = 1232;

/// A copy of the message whose OPT RR is replaced by one built from the arguments (added if
/// absent, ARCOUNT fixed); the new OPT is always the last record. Existing options whose code is
/// not in `dropCodes` are kept in order, then `add` is appended. The OPT's class (UDP size) and
/// TTL field (extended rcode, version, DO, Z) are kept from the old OPT; without one, the UDP
/// size is `udpSizeIfAbsent` and the flags are 0. Records after an old OPT in the middle of the
/// additional section are re-encoded with uncompressed names (owner and the RDATA names of the
/// RFC 1035/3597 types), so no compression pointer depends on the moved bytes.
/// nullopt if the message does not parse (QDCOUNT 0 or 1), if a name kept in place reads bytes of
/// the old OPT (possible only in crafted messages), or if the result would exceed 65535 octets.
std::optional<std::vector<uint8_t>> rewriteOpt(const uint8_t* msg, size_t len, uint16_t udpSizeIfAbsent,
											   const std::vector<uint16_t>& dropCodes,
											   const std::vector<EdnsOption>& add);

/// rewriteOpt for a message parsed already: `info` is what parseMessage said about exactly these
/// bytes, so nothing is parsed again. With `padBlock` > 0 a padding option (zeros) is appended
/// last, sized so that the whole message is a multiple of `padBlock` (RFC 8467; any padding
/// option of the message is dropped first), as padMessage does: one copy for both jobs.
std::optional<std::vector<uint8_t>> rewriteOpt(const uint8_t* msg, size_t len, const MessageInfo& info,
											   uint16_t udpSizeIfAbsent, const std::vector<uint16_t>& dropCodes,
											   const std::vector<EdnsOption>& add, size_t padBlock = 0);

/// Options that tell the server about the client, or pair one client with one server: RFC 7871
/// Client Subnet (the client's network) and RFC 7873 Cookie (a per client-server identifier,
/// meaningless to any other server). The proxy is the upstream's client: it never forwards a
/// client's, and never passes an upstream's on to a client (SPEC 4 "Hostile input and privacy").
const std::vector<uint16_t>& clientPrivateOptions();

/// Options that describe one transport connection (RFC 7828 keepalive, RFC 7830 padding): the
/// proxy sets its own towards the upstream.
const std::vector<uint16_t>& connectionOptions();

/// Whether the OPT that `edns` describes (parsed from `msg`) carries an option with one of `codes`.
bool hasOption(const uint8_t* msg, const EdnsInfo& edns, const std::vector<uint16_t>& codes);

/// A copy without the OPT RR, ARCOUNT fixed (same re-encoding rule as rewriteOpt).
std::optional<std::vector<uint8_t>> removeOpt(const uint8_t* msg, size_t len);

/// RFC 7830/8467: adds (or resizes) a padding option, filled with zeros, so that the whole
/// message length is a multiple of `block` (128 for queries, 468 recommended for responses).
/// Adds an OPT (DEFAULT_UDP_PAYLOAD_SIZE) when there is none. nullopt if malformed, block is 0,
/// or the result would exceed 65535 octets.
std::optional<std::vector<uint8_t>> padMessage(const uint8_t* msg, size_t len, size_t block);

} // namespace dnsproxy::dns
