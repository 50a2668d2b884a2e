// AnswerPatch.cpp - the client's ID and name case written into an answer.
#include "dns/AnswerPatch.h"

#include "dns/Header.h"
#include "dns/Name.h"

#include <cstring>

namespace dnsproxy::dns
{

bool patchAnswerForClient(uint8_t* answer, size_t answerLength, const MessageInfo& answerInfo, const uint8_t* query,
						  const MessageInfo& queryInfo)
{
	if (answerLength < HEADER_SIZE)
		return false;
	writeId(answer, queryInfo.header.id);
	// RFC 1035 4.1.1: RD is copied from the query. Upstream queries always ask for recursion
	// (SPEC 4), so the answer carries RD=1 whatever the client sent.
	uint8_t& flagsHigh = answer[Header::FLAGS_OFFSET]; // QR, OPCODE, AA, TC, RD
	flagsHigh = static_cast<uint8_t>((flagsHigh & ~(Header::RD >> 8)) | (queryInfo.header.rd() ? Header::RD >> 8 : 0));
	const MessageInfo& a = answerInfo;
	const MessageInfo& q = queryInfo;
	if (a.header.qdcount != 1 || a.qnameCompressed || q.qnameCompressed || a.qnameLength != q.qnameLength ||
		a.qnameOffset != q.qnameOffset || a.qnameOffset + a.qnameLength > answerLength)
		return false;
	// Only a change of letter case: an answer to another name is never rewritten into this one.
	if (!namesEqualIgnoreCase(answer + a.qnameOffset, a.qnameLength, query + q.qnameOffset, q.qnameLength))
		return false;
	std::memcpy(answer + a.qnameOffset, query + q.qnameOffset, q.qnameLength);
	return true;
}

} // namespace dnsproxy::dns
