// CacheKey.h - the packet cache key: lower-cased qname wire form, qtype, qclass, DO and CD bits.
#pragma once

#include "dns/Message.h"

#include <cstdint>
#include <optional>
#include <string>

namespace dnsproxy::cache
{

/// The key is a binary std::string (it is also CacheRecord::key, persisted as is):
///   lower-cased uncompressed qname wire bytes | qtype (2, big-endian) | qclass (2) | flags (1)
/// with flags bit 0 = DO (RFC 3225), bit 1 = CD (RFC 4035 3.2.2). Two queries share an answer
/// exactly when these agree; the letter case of the name does not matter (RFC 4343).
class CacheKey
{
public:
	static constexpr uint8_t FLAG_DO = 0x01;
	static constexpr uint8_t FLAG_CD = 0x02;

	struct Parts
	{
		std::string nameWire; ///< lower case, uncompressed, ends with the root label
		uint16_t qtype = 0;
		uint16_t qclass = 0;
		bool dnssecOk = false;
		bool checkingDisabled = false;
	};

	/// Builds the key of a parsed query into `out` (reusing its capacity: the hot path keeps one
	/// buffer per thread). False when the query cannot be cached (no question, compressed name).
	static bool fromQuery(const uint8_t* msg, const dns::MessageInfo& info, std::string& out);
	static std::string make(const uint8_t* nameWire, size_t nameLength, uint16_t qtype, uint16_t qclass, bool dnssecOk,
							bool checkingDisabled);
	/// Splits a key; nullopt when it is not a well-formed key (e.g. a corrupt persisted record).
	static std::optional<Parts> parse(const std::string& key);
	/// Length of the name part of a well-formed key.
	static size_t nameLength(const std::string& key)
	{
		return key.size() >= SUFFIX ? key.size() - SUFFIX : 0;
	}

	static constexpr size_t SUFFIX = 5; ///< qtype, qclass, flags after the name
};

} // namespace dnsproxy::cache
