// DohTestHelpers.h - a recording DohHandler, DNS packets and a base64url encoder for the DoH session tests.
#pragma once

#include "frontend/doh/DohSession.h"
#include "support/PacketBuilder.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::test
{

/// Keeps every query in arrival order; with `answerAtOnce` it answers from inside onQuery
/// (as a cache hit does) with the session set by `attach`.
class RecordingHandler: public frontend::doh::DohHandler
{
public:
	void onQuery(frontend::doh::RequestId id, std::vector<uint8_t>&& query) override
	{
		queries.emplace_back(id, std::move(query));
		if (session && !answerAtOnce.empty())
			session->answer(id, answerAtOnce.data(), answerAtOnce.size());
	}

	std::vector<std::pair<frontend::doh::RequestId, std::vector<uint8_t>>> queries;
	frontend::doh::DohSession* session = nullptr;
	std::vector<uint8_t> answerAtOnce;
};

/// example.com A with ID 0, as RFC 8484 4.1 asks of DoH clients.
inline std::vector<uint8_t> dohQuery()
{
	return PacketBuilder().header(0, 0x0100, 1, 0, 0, 0).question("example.com", 1).data();
}

/// An answer to dohQuery: A TTL 600, A TTL `secondTtl`, then an OPT whose TTL field is 0 (no DO).
inline std::vector<uint8_t> dohAnswer(uint32_t secondTtl = 600)
{
	return PacketBuilder()
		.header(0, 0x8180, 1, 2, 0, 1)
		.question("example.com", 1)
		.rr("example.com", 1, 1, 600, {192, 0, 2, 1})
		.rr("example.com", 1, 1, secondTtl, {192, 0, 2, 2})
		.opt(1232, false)
		.data();
}

/// base64url without padding (RFC 4648 5), written here independently of the decoder under test.
inline std::string base64Url(const std::vector<uint8_t>& data)
{
	static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	std::string out;
	for (size_t i = 0; i < data.size(); i += 3)
	{
		const uint32_t chunk = (uint32_t(data[i]) << 16) | (i + 1 < data.size() ? uint32_t(data[i + 1]) << 8 : 0) |
							   (i + 2 < data.size() ? uint32_t(data[i + 2]) : 0);
		const size_t chars = i + 2 < data.size() ? 4 : i + 1 < data.size() ? 3 : 2;
		for (size_t c = 0; c < chars; ++c)
			out += ALPHABET[(chunk >> (18 - 6 * c)) & 63];
	}
	return out;
}

} // namespace dnsproxy::test
