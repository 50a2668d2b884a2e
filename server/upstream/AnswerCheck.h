// AnswerCheck.h - whether an upstream answer really answers the query it claims to (SPEC 4).
#pragma once

#include "dns/Message.h"

#include <cstddef>
#include <cstdint>

namespace dnsproxy::upstream
{

/// What an answer must echo of the query sent: its opcode and its question. Taken from the one
/// parse of the query (the OPT rewrite before sending keeps header and question in place), so
/// an answer is checked without parsing its query again.
struct SentQuestion
{
	uint8_t opcode = 0;
	uint16_t qtype = 0;
	uint16_t qclass = 0;
	size_t qnameOffset = dns::HEADER_SIZE; ///< where the name sits in the query's bytes
	size_t qnameLength = 0;
	bool qnameCompressed = false;

	static SentQuestion of(const dns::MessageInfo& query);
};

enum class AnswerVerdict
{
	OK,
	MALFORMED,               ///< does not parse (or more than one question)
	NOT_A_RESPONSE,          ///< QR=0
	WRONG_OPCODE,            ///< not the query's opcode
	WRONG_QUESTION,          ///< another name (case aside), type or class
	QUESTIONLESS_NOT_ALLOWED ///< QDCOUNT=0 with records, or with an rcode other than FORMERR/NOTIMP/REFUSED
};

/// Stable lower-case name for logs, e.g. "wrong_question".
const char* toString(AnswerVerdict verdict);

/// The rules an answer from an upstream must pass before it reaches the cache or a client
/// (RFC 5452 9.1, SPEC 4): it parses, QR=1, the query's opcode, and the query's question (name
/// compared case-insensitively, type, class). Some servers omit the question in error answers,
/// so QDCOUNT=0 is accepted only for FORMERR, NOTIMP or REFUSED (extended rcode 0) with no
/// answer, authority or additional records besides an OPT: such an answer cannot carry data
/// for any name. `query` holds the bytes `sent` was taken from; `answerInfo` is filled when the
/// answer parses (the caller reads EDNS from it). Pure: no state, no allocation.
AnswerVerdict checkAnswer(const uint8_t* query, const SentQuestion& sent, const uint8_t* answer, size_t answerLength,
						  dns::MessageInfo& answerInfo);

} // namespace dnsproxy::upstream
