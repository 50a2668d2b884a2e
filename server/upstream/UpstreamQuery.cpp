// UpstreamQuery.cpp - a client query made the proxy's own before it goes upstream.
#include "upstream/UpstreamQuery.h"

#include "dns/Constants.h"
#include "dns/Edns.h"
#include "dns/Header.h"

namespace dnsproxy::upstream
{

namespace
{
/// RFC 8467 4.1: block-length padding of queries to a multiple of 128 octets.
constexpr size_t QUERY_PADDING_BLOCK = 128;

/// What a client's query loses on the way upstream: options that tell about the client (ECS,
/// cookie) and those of the client's own connection (keepalive, padding; ours replace them).
/// Everything else (NSID, DNSSEC signalling, unknown codes) is passed on, as SPEC 4 "Answers"
/// requires of the OPT.
const std::vector<uint16_t>& upstreamDropOptions()
{
	static const std::vector<uint16_t> codes = [] {
		std::vector<uint16_t> all = dns::clientPrivateOptions();
		const auto& hop = dns::connectionOptions();
		all.insert(all.end(), hop.begin(), hop.end());
		return all;
	}();
	return codes;
}
} // namespace

std::optional<std::vector<uint8_t>> prepareUpstreamQuery(std::vector<uint8_t>&& query, const dns::MessageInfo& info,
														 bool keepalive, bool padding)
{
	if (query.size() < dns::HEADER_SIZE)
		return std::nullopt;
	// SPEC 4: always ask for recursion. Header and question stay in place through the rewrite.
	query[2] = static_cast<uint8_t>(query[2] | (dns::Header::RD >> 8));
	const bool clientPrivate = dns::hasOption(query.data(), info.edns, dns::clientPrivateOptions());
	if (!keepalive && !padding && !clientPrivate && !dns::hasOption(query.data(), info.edns, dns::connectionOptions()))
		return std::move(query);
	std::vector<dns::EdnsOption> add;
	if (keepalive)
		add.push_back({dns::EdnsOptionCode::TCP_KEEPALIVE, {}}); // RFC 7828 3.2.1: empty in queries
	auto rewritten = dns::rewriteOpt(query.data(), query.size(), info, dns::DEFAULT_UDP_PAYLOAD_SIZE,
									 upstreamDropOptions(), add, padding ? QUERY_PADDING_BLOCK : 0);
	if (rewritten)
		return rewritten;
	// Crafted only (a name running into the OPT, or 64 KB already): never forward what tells
	// about the client; anything else goes as the client wrote it, as before.
	if (clientPrivate)
		return std::nullopt;
	return std::move(query);
}

} // namespace dnsproxy::upstream
