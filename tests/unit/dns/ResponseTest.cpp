// ResponseTest.cpp - tests of error answers (FORMERR, SERVFAIL, ...) and TC=1 truncated answers.
#include "dns/Response.h"
#include "DnsTestHelpers.h"
#include "dns/Message.h"
#include "support/DnsTestTraits.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy::dns;
using namespace dnsproxy::test;

namespace
{

std::vector<uint8_t> slice(const std::vector<uint8_t>& msg, size_t from, size_t to)
{
	return std::vector<uint8_t>(msg.begin() + static_cast<std::ptrdiff_t>(from),
								msg.begin() + static_cast<std::ptrdiff_t>(to));
}

} // namespace

class ResponseTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ResponseTest);
	CPPUNIT_TEST(testErrorResponseCopiesIdQuestionAndEdns);
	CPPUNIT_TEST(testErrorResponseWithoutEdnsHasNoOpt);
	CPPUNIT_TEST(testErrorResponseFromHeaderOnlyHasNoQuestion);
	CPPUNIT_TEST(testErrorResponseIsEmptyWithoutHeader);
	CPPUNIT_TEST(testErrorResponseCopiesOpcodeRdAndCd);
	CPPUNIT_TEST(testExtendedRcodeGoesIntoOpt);
	CPPUNIT_TEST(testExtendedRcodeWithoutEdnsBecomesServfail);
	CPPUNIT_TEST(testTruncatedKeepsHeaderQuestionAndOpt);
	CPPUNIT_TEST(testTruncatedNxdomainKeepsRcodeAndDropsAuthority);
	CPPUNIT_TEST(testTruncatedWithoutEdns);
	CPPUNIT_TEST(testTruncatedRejectsMalformedAnswer);
	CPPUNIT_TEST_SUITE_END();

public:
	void testErrorResponseCopiesIdQuestionAndEdns()
	{
		const auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		const MessageInfo queryInfo = parsed(query);
		const auto out = makeErrorResponse(query.data(), query.size(), &queryInfo, Rcode::SERVFAIL);
		const MessageInfo info = parsed(out);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0xd59a), info.header.id);
		CPPUNIT_ASSERT(info.header.qr());
		CPPUNIT_ASSERT(info.header.ra());
		CPPUNIT_ASSERT(info.header.rd());
		CPPUNIT_ASSERT(!info.header.aa());
		CPPUNIT_ASSERT(!info.header.ad());
		CPPUNIT_ASSERT_EQUAL(Rcode::SERVFAIL, info.header.rcode());
		CPPUNIT_ASSERT_EQUAL(slice(query, 12, 29), slice(out, 12, 29));
		CPPUNIT_ASSERT(info.edns.present);
		CPPUNIT_ASSERT(info.edns.dnssecOk);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1232), info.edns.udpPayloadSize);
		CPPUNIT_ASSERT_EQUAL(size_t(11), info.edns.rrLength); // no options (the cookie is not echoed)
		CPPUNIT_ASSERT_EQUAL(size_t(29 + 11), out.size());
	}

	void testErrorResponseWithoutEdnsHasNoOpt()
	{
		const auto query = loadHexCapture("www_cname_noedns_query.hex");
		const MessageInfo queryInfo = parsed(query);
		const auto out = makeErrorResponse(query.data(), query.size(), &queryInfo, Rcode::REFUSED);
		const MessageInfo info = parsed(out);
		CPPUNIT_ASSERT(!info.edns.present);
		CPPUNIT_ASSERT_EQUAL(Rcode::REFUSED, info.header.rcode());
		CPPUNIT_ASSERT_EQUAL(query.size(), out.size());
		CPPUNIT_ASSERT_EQUAL(slice(query, 12, query.size()), slice(out, 12, out.size()));
	}

	void testErrorResponseFromHeaderOnlyHasNoQuestion()
	{
		PacketBuilder b;
		b.header(0xABCD, 0x0100, 1, 0, 0, 0).u8(0xC0).u8(0xFF); // question name is garbage
		const auto out = makeErrorResponse(b.data().data(), b.size(), nullptr, Rcode::FORMERR);
		CPPUNIT_ASSERT_EQUAL(size_t(12), out.size());
		const MessageInfo info = parsed(out);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0xABCD), info.header.id);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), info.header.qdcount);
		CPPUNIT_ASSERT_EQUAL(Rcode::FORMERR, info.header.rcode());
		CPPUNIT_ASSERT(info.header.qr());
	}

	void testErrorResponseIsEmptyWithoutHeader()
	{
		const uint8_t shortQuery[] = {0x12, 0x34, 0x01};
		CPPUNIT_ASSERT(makeErrorResponse(shortQuery, sizeof shortQuery, nullptr, Rcode::FORMERR).empty());
	}

	void testErrorResponseCopiesOpcodeRdAndCd()
	{
		PacketBuilder b;
		b.header(7, 0x2010, 1, 0, 0, 0).question("example.com", Type::A); // opcode 4 (NOTIFY), CD, no RD
		const MessageInfo queryInfo = parsed(b.data());
		const auto out = makeErrorResponse(b.data().data(), b.size(), &queryInfo, Rcode::NOTIMP);
		const MessageInfo info = parsed(out);
		CPPUNIT_ASSERT_EQUAL(uint8_t(4), info.header.opcode());
		CPPUNIT_ASSERT(info.header.cd());
		CPPUNIT_ASSERT(!info.header.rd());
		CPPUNIT_ASSERT_EQUAL(Rcode::NOTIMP, info.header.rcode());
	}

	void testExtendedRcodeGoesIntoOpt()
	{
		const auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		const MessageInfo queryInfo = parsed(query);
		const auto out = makeErrorResponse(query.data(), query.size(), &queryInfo, 16, 4096); // BADVERS
		const MessageInfo info = parsed(out);
		CPPUNIT_ASSERT_EQUAL(uint8_t(0), info.header.rcode());
		CPPUNIT_ASSERT_EQUAL(uint8_t(1), info.edns.extendedRcode);
		CPPUNIT_ASSERT_EQUAL(uint16_t(4096), info.edns.udpPayloadSize);
	}

	void testExtendedRcodeWithoutEdnsBecomesServfail()
	{
		const auto query = loadHexCapture("www_cname_noedns_query.hex");
		const MessageInfo queryInfo = parsed(query);
		const auto out = makeErrorResponse(query.data(), query.size(), &queryInfo, 16);
		CPPUNIT_ASSERT_EQUAL(Rcode::SERVFAIL, parsed(out).header.rcode());
	}

	void testTruncatedKeepsHeaderQuestionAndOpt()
	{
		const auto answer = loadHexCapture("example_a_dnssec_answer.hex");
		const auto out = makeTruncated(answer.data(), answer.size());
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(info.header.tc());
		CPPUNIT_ASSERT_EQUAL(uint16_t(0xd59a), info.header.id);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x8780), info.header.flags);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), info.header.qdcount);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), info.header.ancount);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), info.header.arcount);
		CPPUNIT_ASSERT(info.edns.dnssecOk);
		CPPUNIT_ASSERT_EQUAL(slice(answer, 12, 29), slice(*out, 12, 29));
		CPPUNIT_ASSERT_EQUAL(slice(answer, answer.size() - 11, answer.size()), slice(*out, 29, out->size()));
	}

	void testTruncatedNxdomainKeepsRcodeAndDropsAuthority()
	{
		const auto answer = loadHexCapture("nxdomain_soa_answer.hex");
		const auto out = makeTruncated(answer.data(), answer.size());
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT_EQUAL(Rcode::NXDOMAIN, info.header.rcode());
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), info.header.nscount);
		CPPUNIT_ASSERT_EQUAL(size_t(36 + 11), out->size());
	}

	void testTruncatedWithoutEdns()
	{
		const auto answer = loadHexCapture("www_cname_noedns_answer.hex");
		const auto out = makeTruncated(answer.data(), answer.size());
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(!info.edns.present);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), info.header.arcount);
		CPPUNIT_ASSERT_EQUAL(info.questionEnd, out->size());
	}

	void testTruncatedRejectsMalformedAnswer()
	{
		auto answer = loadHexCapture("example_a_dnssec_answer.hex");
		answer.resize(answer.size() - 3);
		CPPUNIT_ASSERT(!makeTruncated(answer.data(), answer.size()).has_value());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ResponseTest, "dns");
