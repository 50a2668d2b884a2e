// Response.cpp - construction of error and truncated answers from the client's own query or the upstream answer.
#include "dns/Response.h"

#include "dns/MessageWriter.h"
#include "dns/Name.h"

namespace dnsproxy::dns
{

std::vector<uint8_t> makeErrorResponse(const uint8_t* query, size_t len, const MessageInfo* info, uint8_t rcode,
									   uint16_t udpSize)
{
	const auto queryHeader = Header::parse(query, len);
	if (!queryHeader)
		return {};
	const bool edns = info != nullptr && info->edns.present;
	if (rcode > 15 && !edns)
		rcode = Rcode::SERVFAIL;

	Header header;
	header.id = queryHeader->id;
	header.setQr(true);
	header.setOpcode(queryHeader->opcode());
	header.setRd(queryHeader->rd());
	header.setCd(queryHeader->cd());
	header.setRa(true);
	header.setRcode(static_cast<uint8_t>(rcode & 0x0F));

	MessageWriter writer;
	writer.setHeader(header);
	if (info != nullptr && info->header.qdcount == 1 && info->qnameLength > 0)
	{
		std::vector<uint8_t> qname;
		qname.reserve(MAX_NAME_LENGTH);
		size_t pos = info->qnameOffset;
		if (readName(query, len, pos, &qname) == ParseError::NONE)
			writer.addQuestion(qname.data(), qname.size(), info->qtype, info->qclass);
	}
	if (edns)
		writer.addOpt(udpSize, info->edns.dnssecOk, {}, static_cast<uint8_t>(rcode >> 4));
	return writer.finish();
}

std::optional<std::vector<uint8_t>> makeTruncated(const uint8_t* answer, size_t len)
{
	MessageInfo info;
	if (parseMessage(answer, len, info, true) != ParseError::NONE)
		return std::nullopt;
	Header header = info.header;
	header.setTc(true);
	header.ancount = 0;
	header.nscount = 0;
	header.arcount = info.edns.present ? 1 : 0;

	std::vector<uint8_t> out(HEADER_SIZE);
	out.reserve(HEADER_SIZE + MAX_NAME_LENGTH + 4 + info.edns.rrLength);
	header.write(out.data());
	if (header.qdcount == 1)
	{
		// Decompressed, so the copy never depends on bytes that are not copied.
		size_t pos = info.qnameOffset;
		if (readName(answer, len, pos, &out) != ParseError::NONE)
			return std::nullopt;
		out.insert(out.end(), answer + info.questionEnd - 4, answer + info.questionEnd);
	}
	// The OPT owner is a literal root octet and its RDATA holds no names: copy it verbatim.
	if (info.edns.present)
		out.insert(out.end(), answer + info.edns.rrOffset, answer + info.edns.rrOffset + info.edns.rrLength);
	return out;
}

} // namespace dnsproxy::dns
