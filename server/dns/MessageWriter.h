// MessageWriter.h - builds DNS messages section by section with owner-name compression (error answers, EDNS rewriting,
// tests).
#pragma once

#include "dns/Header.h"

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace dnsproxy::dns
{

/// Sections must be filled in order (questions, answer, authority, additional); an add that
/// would go back to an earlier section, take a malformed name, or grow the message past
/// `maxSize` returns false and changes nothing. Not thread-safe; one writer per message.
class MessageWriter
{
public:
	explicit MessageWriter(size_t maxSize = 65535);

	/// Counts in `header` are ignored: the writer maintains them.
	void setHeader(const Header& header);
	/// `name` is an uncompressed wire name; it is written as given (no compression) so the
	/// question keeps its exact bytes, and becomes a compression target for later owners.
	bool addQuestion(const uint8_t* name, size_t nameLen, uint16_t type, uint16_t klass);
	/// section: 1 answer, 2 authority, 3 additional. The owner name is compressed against names
	/// written before (case-insensitively, RFC 1035 4.1.4); rdata is copied as is.
	bool addRecord(int section, const uint8_t* name, size_t nameLen, uint16_t type, uint16_t klass, uint32_t ttl,
				   const uint8_t* rdata, size_t rdlen);
	/// OPT pseudo-RR (RFC 6891 6.1.2) in the additional section; at most one per message.
	bool addOpt(uint16_t udpSize, bool dnssecOk, const std::vector<std::pair<uint16_t, std::vector<uint8_t>>>& options,
				uint8_t extRcode = 0, uint8_t version = 0);
	/// Header with counts followed by the body; the writer can keep going afterwards.
	std::vector<uint8_t> finish();

	/// Bytes that finish() would return now.
	size_t size() const;

private:
	struct Suffix
	{
		uint16_t offset;     // position in the message
		size_t nameIndex;    // into _names
		size_t suffixOffset; // where the suffix starts inside that name
	};

	bool validName(const uint8_t* name, size_t nameLen) const;
	void rememberName(const uint8_t* name, size_t nameLen, size_t messageOffset, size_t literalBytes);
	bool enterSection(int section);

	size_t _maxSize;
	Header _header;
	std::vector<uint8_t> _body;
	uint16_t _counts[4] = {0, 0, 0, 0};
	int _section = 0;
	bool _hasOpt = false;
	std::vector<std::vector<uint8_t>> _names;
	std::vector<Suffix> _suffixes;
};

} // namespace dnsproxy::dns
