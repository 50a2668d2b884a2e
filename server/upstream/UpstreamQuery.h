// UpstreamQuery.h - a client query made the proxy's own before it goes upstream (SPEC 4).
#pragma once

#include "dns/Message.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace dnsproxy::upstream
{

/// The query as it goes upstream: RD=1 (a client's RD=0 must not put a non-recursive answer in
/// the shared cache; the client gets its own RD back when the answer is shaped), client-private
/// and connection EDNS options (ECS, cookie, keepalive, padding) replaced by the proxy's own
/// (keepalive, RFC 8467 padding to 128 octets), in one copy; DO, CD, the UDP size and other
/// options stay. `info` describes `query`. When the OPT cannot be rewritten (crafted messages
/// only) the query goes as it is unless it carries a client-private option: then nullopt, it is
/// not sent at all.
std::optional<std::vector<uint8_t>> prepareUpstreamQuery(std::vector<uint8_t>&& query, const dns::MessageInfo& info,
														 bool keepalive, bool padding);

} // namespace dnsproxy::upstream
