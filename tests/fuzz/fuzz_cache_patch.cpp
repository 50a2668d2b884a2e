// fuzz_cache_patch.cpp - fuzzes the answer patching on a cache hit: TTL ageing in cache::PacketCache,
// then the client's ID, RD bit and 0x20 name case written in by dns::patchAnswerForClient.
#include "FuzzCheck.h"
#include "cache/CacheKey.h"
#include "cache/PacketCache.h"
#include "dns/AnswerPatch.h"
#include "dns/Header.h"
#include "dns/Message.h"
#include "dns/Name.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <vector>

using namespace dnsproxy;
using dnsproxy::fuzz::check;

// Input: 2 octets age in seconds, 2 octets the client's ID, 1 octet case-flip seed, then an answer
// as an upstream would send it. The client's query is the answer's question with letters flipped.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	const dnsproxy::fuzz::CostGuard costGuard;
	if (size < 5 + dns::HEADER_SIZE)
		return 0;
	const uint32_t age = (static_cast<uint32_t>(data[0]) << 8) | data[1];
	const uint16_t clientId = static_cast<uint16_t>((data[2] << 8) | data[3]);
	const uint8_t caseSeed = data[4];
	const uint8_t* answer = data + 5;
	const size_t length = size - 5;

	dns::MessageInfo info;
	if (dns::parseMessage(answer, length, info) != dns::ParseError::NONE)
		return 0;
	// The query is a header and the question: built from the answer's own bytes.
	std::vector<uint8_t> query(answer, answer + info.questionEnd);
	query[2] &= 0x7f; // QR=0
	if (clientId & 1)
		query[2] ^= dns::Header::RD >> 8; // a client whose RD differs from the stored answer's
	dns::writeId(query.data(), clientId);
	query[5] = 1;
	std::memset(query.data() + 6, 0, 6);
	for (size_t i = 0; i < info.qnameLength; ++i)
	{
		uint8_t& c = query[info.qnameOffset + i];
		if (std::isalpha(c) && ((caseSeed >> (i % 8)) & 1))
			c = static_cast<uint8_t>(c ^ 0x20);
	}
	dns::MessageInfo queryInfo;
	if (dns::parseMessage(query.data(), query.size(), queryInfo) != dns::ParseError::NONE)
		return 0; // flipping case of label-length octets can break the name: nothing to patch then
	std::string key;
	if (!cache::CacheKey::fromQuery(query.data(), queryInfo, key))
		return 0;

	int64_t now = 1700000000;
	cache::CacheSettings settings;
	settings.maxEntries = 8;
	cache::PacketCache cache(settings, [&now]() { return now; });
	if (!cache.insert(key, answer, length))
		return 0;
	now += age;
	auto hit = cache.lookup(key);
	if (!hit)
		return 0;
	// The cache stores the answer without the hop-by-hop EDNS options (padding, keepalive); removing
	// them may re-encode records after the OPT, so the stored copy, not the inserted bytes, is what a
	// hit must reproduce in length.
	const auto stored = cache.exportAll();
	check(stored.size() == 1, "one entry stored");
	const size_t storedLength = stored.front().answer.size();
	check(hit->answer.size() == storedLength, "a hit has the stored answer's length");
	dns::MessageInfo hitInfo;
	check(dns::parseMessage(hit->answer.data(), hit->answer.size(), hitInfo) == dns::ParseError::NONE,
		  "an aged answer still parses");
	check(dns::readId(hit->answer.data()) == 0, "stored answers carry ID 0");

	std::vector<uint8_t> patched = hit->answer;
	const bool copied = dns::patchAnswerForClient(patched.data(), patched.size(), hitInfo, query.data(), queryInfo);
	check(patched.size() == storedLength, "patching never changes the length");
	check(dns::readId(patched.data()) == clientId, "the client's ID is written");
	check(copied, "the client's question case is written");
	check(std::memcmp(patched.data() + hitInfo.qnameOffset, query.data() + queryInfo.qnameOffset,
					  queryInfo.qnameLength) == 0,
		  "the name comes back as the client wrote it");
	const uint8_t rdBit = dns::Header::RD >> 8;
	check((patched[2] & rdBit) == (query[2] & rdBit), "the client's RD bit is written");
	check((patched[2] & ~rdBit) == (hit->answer[2] & ~rdBit), "no other flag is touched");
	for (size_t i = 3; i < patched.size(); ++i)
	{
		const bool inName = i >= hitInfo.qnameOffset && i < hitInfo.qnameOffset + hitInfo.qnameLength;
		if (!inName)
			check(patched[i] == hit->answer[i], "nothing but the ID, RD and the name is touched");
	}
	dns::MessageInfo patchedInfo;
	check(dns::parseMessage(patched.data(), patched.size(), patchedInfo) == dns::ParseError::NONE,
		  "a patched answer still parses");
	return 0;
}
