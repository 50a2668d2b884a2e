// AnswerCheck.cpp - the acceptance rules for upstream answers: QR, opcode, question, question-less errors.
#include "upstream/AnswerCheck.h"

#include "dns/Name.h"

namespace dnsproxy::upstream
{

SentQuestion SentQuestion::of(const dns::MessageInfo& query)
{
	SentQuestion sent;
	sent.opcode = query.header.opcode();
	sent.qtype = query.qtype;
	sent.qclass = query.qclass;
	sent.qnameOffset = query.qnameOffset;
	sent.qnameLength = query.qnameLength;
	sent.qnameCompressed = query.qnameCompressed;
	return sent;
}

const char* toString(AnswerVerdict verdict)
{
	switch (verdict)
	{
	case AnswerVerdict::OK:
		return "ok";
	case AnswerVerdict::MALFORMED:
		return "malformed";
	case AnswerVerdict::NOT_A_RESPONSE:
		return "qr_not_set";
	case AnswerVerdict::WRONG_OPCODE:
		return "wrong_opcode";
	case AnswerVerdict::WRONG_QUESTION:
		return "wrong_question";
	case AnswerVerdict::QUESTIONLESS_NOT_ALLOWED:
		return "questionless_not_allowed";
	}
	return "unknown";
}

AnswerVerdict checkAnswer(const uint8_t* query, const SentQuestion& sent, const uint8_t* answer, size_t answerLength,
						  dns::MessageInfo& answerInfo)
{
	if (dns::parseMessage(answer, answerLength, answerInfo, true) != dns::ParseError::NONE)
		return AnswerVerdict::MALFORMED;
	const dns::MessageInfo& a = answerInfo;
	if (!a.header.qr())
		return AnswerVerdict::NOT_A_RESPONSE;
	if (a.header.opcode() != sent.opcode)
		return AnswerVerdict::WRONG_OPCODE;
	if (a.header.qdcount == 0)
	{
		const unsigned rcode = a.header.rcode() | (a.edns.present ? unsigned(a.edns.extendedRcode) << 4 : 0u);
		const bool errorRcode =
			rcode == dns::Rcode::FORMERR || rcode == dns::Rcode::NOTIMP || rcode == dns::Rcode::REFUSED;
		const bool noRecords =
			a.header.ancount == 0 && a.header.nscount == 0 && a.header.arcount == (a.edns.present ? 1 : 0);
		return errorRcode && noRecords ? AnswerVerdict::OK : AnswerVerdict::QUESTIONLESS_NOT_ALLOWED;
	}
	if (sent.qtype != a.qtype || sent.qclass != a.qclass || sent.qnameCompressed || a.qnameCompressed)
		return AnswerVerdict::WRONG_QUESTION;
	if (!dns::namesEqualIgnoreCase(query + sent.qnameOffset, sent.qnameLength, answer + a.qnameOffset, a.qnameLength))
		return AnswerVerdict::WRONG_QUESTION;
	return AnswerVerdict::OK;
}

} // namespace dnsproxy::upstream
