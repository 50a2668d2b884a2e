// MessageTest.cpp - tests of parseMessage on captured and hand-built messages, valid and malformed.
#include "dns/Message.h"
#include "support/DnsTestTraits.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using namespace dnsproxy::dns;
using namespace dnsproxy::test;

namespace
{

const char* const CAPTURES[] = {
	"dig_example_a_dnssec_query.hex", "example_a_dnssec_answer.hex",  "nxdomain_soa_answer.hex",
	"example_mx_answer.hex",          "example_ns_answer.hex",        "www_cname_noedns_query.hex",
	"www_cname_noedns_answer.hex",    "nodata_soa_dnssec_answer.hex", "example_rrsig_answer.hex",
	"kdig_padded_query.hex",          "example_aaaa_answer.hex",
};

ParseError parse(const std::vector<uint8_t>& msg, MessageInfo& info, bool allowNoQuestion = false)
{
	return parseMessage(msg.data(), msg.size(), info, allowNoQuestion);
}

ParseError parse(const std::vector<uint8_t>& msg)
{
	MessageInfo info;
	return parse(msg, info);
}

/// Query for example.com A with the given additional records already counted in `arcount`.
PacketBuilder query(uint16_t ancount, uint16_t arcount)
{
	PacketBuilder b;
	b.header(7, 0x0100, 1, ancount, 0, arcount).question("example.com", Type::A);
	return b;
}

/// The issue 15 attack: a query whose first answer RR holds in its RDATA `chain` pointers, each
/// to the one before and the first to the question name, then `records` A records (empty RDATA)
/// owned by a pointer to the chain's end. Without a limit every owner walks the whole chain.
std::vector<uint8_t> chainAttack(size_t chain, size_t records)
{
	PacketBuilder b;
	b.header(0x1500, 0x0100, 1, static_cast<uint16_t>(1 + records), 0, 0).question("chain.example", Type::A);
	b.pointer(12).rrFixed(10, Class::IN, 0, static_cast<uint16_t>(2 * chain)); // TYPE NULL
	uint16_t target = HEADER_SIZE;
	for (size_t i = 0; i < chain; ++i)
	{
		const uint16_t here = static_cast<uint16_t>(b.size());
		b.pointer(target);
		target = here;
	}
	for (size_t i = 0; i < records; ++i)
		b.pointer(target).rrFixed(Type::A, Class::IN, 0, 0);
	return b.data();
}

} // namespace

class MessageTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(MessageTest);
	CPPUNIT_TEST(testParsesEveryCapture);
	CPPUNIT_TEST(testSummarisesCapturedDnssecQuery);
	CPPUNIT_TEST(testSummarisesCompressedAnswer);
	CPPUNIT_TEST(testSummarisesQueryWithoutEdns);
	CPPUNIT_TEST(testDetectsPaddingOption);
	CPPUNIT_TEST(testReadsKeepaliveTimeout);
	CPPUNIT_TEST(testReadsKeepaliveWithoutTimeout);
	CPPUNIT_TEST(testReadsExtendedRcodeAndVersion);
	CPPUNIT_TEST(testRejectsEveryTruncationOfCaptures);
	CPPUNIT_TEST(testRejectsCountsLargerThanPacket);
	CPPUNIT_TEST(testRejectsMissingQuestionUnlessAllowed);
	CPPUNIT_TEST(testRejectsTwoQuestions);
	CPPUNIT_TEST(testRejectsOptOutsideAdditionalSection);
	CPPUNIT_TEST(testRejectsTwoOpts);
	CPPUNIT_TEST(testRejectsNonRootOpt);
	CPPUNIT_TEST(testRejectsOptionOverrunningOptRdata);
	CPPUNIT_TEST(testRejectsRdlengthPastEnd);
	CPPUNIT_TEST(testRejectsTrailingData);
	CPPUNIT_TEST(testRejectsCompressionLoopInOwner);
	CPPUNIT_TEST(testRejectsRecordsOwnedByEndOfPointerChain);
	CPPUNIT_TEST(testParsesRecordsOwnedByLongestLegalChainInLinearWork);
	CPPUNIT_TEST(testStopsWhenNamesExhaustTheBudget);
	CPPUNIT_TEST(testParsesManyRecordsOwnedByDeepNameWithinBudget);
	CPPUNIT_TEST(testChecksQueryCountsFromHeader);
	CPPUNIT_TEST(testParseQuestionReadsOnlyQuestionAndLoneOpt);
	CPPUNIT_TEST(testNamesEveryParseError);
	CPPUNIT_TEST_SUITE_END();

public:
	void testParsesEveryCapture()
	{
		for (const char* file : CAPTURES)
			CPPUNIT_ASSERT_EQUAL_MESSAGE(file, ParseError::NONE, parse(loadHexCapture(file)));
	}

	void testSummarisesCapturedDnssecQuery()
	{
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parse(loadHexCapture("dig_example_a_dnssec_query.hex"), info));
		CPPUNIT_ASSERT_EQUAL(size_t(12), info.qnameOffset);
		CPPUNIT_ASSERT_EQUAL(size_t(13), info.qnameLength);
		CPPUNIT_ASSERT(!info.qnameCompressed);
		CPPUNIT_ASSERT_EQUAL(Type::A, info.qtype);
		CPPUNIT_ASSERT_EQUAL(Class::IN, info.qclass);
		CPPUNIT_ASSERT_EQUAL(size_t(29), info.questionEnd);
		CPPUNIT_ASSERT_EQUAL(size_t(29), info.answerStart);
		CPPUNIT_ASSERT(info.edns.present);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1232), info.edns.udpPayloadSize);
		CPPUNIT_ASSERT(info.edns.dnssecOk);
		CPPUNIT_ASSERT_EQUAL(uint8_t(0), info.edns.version);
		CPPUNIT_ASSERT_EQUAL(size_t(29), info.edns.rrOffset);
		CPPUNIT_ASSERT_EQUAL(size_t(11 + 12), info.edns.rrLength); // COOKIE option, 8-byte client cookie
		CPPUNIT_ASSERT(!info.edns.hasKeepalive);
		CPPUNIT_ASSERT(!info.edns.hasPadding);
	}

	void testSummarisesCompressedAnswer()
	{
		MessageInfo info;
		const auto answer = loadHexCapture("nxdomain_soa_answer.hex");
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parse(answer, info));
		CPPUNIT_ASSERT_EQUAL(Rcode::NXDOMAIN, info.header.rcode());
		CPPUNIT_ASSERT_EQUAL(size_t(20), info.qnameLength);
		CPPUNIT_ASSERT_EQUAL(size_t(36), info.answerStart);
		CPPUNIT_ASSERT(info.edns.present);
		CPPUNIT_ASSERT(!info.edns.dnssecOk);
		CPPUNIT_ASSERT_EQUAL(answer.size() - 11, info.edns.rrOffset);
	}

	void testSummarisesQueryWithoutEdns()
	{
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parse(loadHexCapture("www_cname_noedns_query.hex"), info));
		CPPUNIT_ASSERT(!info.edns.present);
		CPPUNIT_ASSERT_EQUAL(size_t(17), info.qnameLength);
	}

	void testDetectsPaddingOption()
	{
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parse(loadHexCapture("kdig_padded_query.hex"), info));
		CPPUNIT_ASSERT(info.edns.hasPadding);
		CPPUNIT_ASSERT(!info.edns.hasKeepalive);
		CPPUNIT_ASSERT_EQUAL(Type::AAAA, info.qtype);
	}

	void testReadsKeepaliveTimeout()
	{
		// RFC 7828: a server answers with a 2-byte timeout in units of 100 ms.
		const auto msg = query(0, 1).opt(4096, false, ednsOption(EdnsOptionCode::TCP_KEEPALIVE, {0x01, 0x2C})).data();
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parse(msg, info));
		CPPUNIT_ASSERT(info.edns.hasKeepalive);
		CPPUNIT_ASSERT_EQUAL(std::optional<uint16_t>(300), info.edns.keepaliveTimeout);
		CPPUNIT_ASSERT_EQUAL(uint16_t(4096), info.edns.udpPayloadSize);
	}

	void testReadsKeepaliveWithoutTimeout()
	{
		// A client sends the option empty.
		const auto msg = query(0, 1).opt(1232, true, ednsOption(EdnsOptionCode::TCP_KEEPALIVE, {})).data();
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parse(msg, info));
		CPPUNIT_ASSERT(info.edns.hasKeepalive);
		CPPUNIT_ASSERT(!info.edns.keepaliveTimeout.has_value());
		CPPUNIT_ASSERT(info.edns.dnssecOk);
	}

	void testReadsExtendedRcodeAndVersion()
	{
		const auto msg = query(0, 1).opt(512, false, {}, 1, 2).data();
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parse(msg, info));
		CPPUNIT_ASSERT_EQUAL(uint8_t(1), info.edns.extendedRcode);
		CPPUNIT_ASSERT_EQUAL(uint8_t(2), info.edns.version);
	}

	void testRejectsEveryTruncationOfCaptures()
	{
		for (const char* file : CAPTURES)
		{
			const auto msg = loadHexCapture(file);
			for (size_t len = 0; len < msg.size(); ++len)
			{
				// A copy of exactly `len` bytes, so ASan would see any read past the end.
				const std::vector<uint8_t> prefix(msg.begin(), msg.begin() + static_cast<std::ptrdiff_t>(len));
				MessageInfo info;
				const ParseError error = parseMessage(prefix.data(), prefix.size(), info, true);
				CPPUNIT_ASSERT_MESSAGE(std::string(file) + " prefix " + std::to_string(len), error != ParseError::NONE);
			}
		}
	}

	void testRejectsCountsLargerThanPacket()
	{
		PacketBuilder answers;
		answers.bytes(loadHexCapture("www_cname_noedns_answer.hex")).patchU16(6, 0xFFFF);
		CPPUNIT_ASSERT_EQUAL(ParseError::TRUNCATED, parse(answers.data()));
		PacketBuilder additional;
		additional.bytes(loadHexCapture("example_ns_answer.hex")).patchU16(10, 2);
		CPPUNIT_ASSERT_EQUAL(ParseError::TRUNCATED, parse(additional.data()));
	}

	void testRejectsMissingQuestionUnlessAllowed()
	{
		PacketBuilder b;
		b.header(9, 0x8180, 0, 0, 0, 0);
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NO_QUESTION, parse(b.data(), info));
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parse(b.data(), info, true));
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), info.qtype);
		CPPUNIT_ASSERT_EQUAL(size_t(12), info.questionEnd);
	}

	void testRejectsTwoQuestions()
	{
		PacketBuilder b;
		b.header(9, 0, 2, 0, 0, 0).question("a", Type::A).question("b", Type::A);
		CPPUNIT_ASSERT_EQUAL(ParseError::TOO_MANY_QUESTIONS, parse(b.data()));
	}

	void testRejectsOptOutsideAdditionalSection()
	{
		const auto inAnswer = query(1, 0).opt(1232, false).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_OPT, parse(inAnswer));
		PacketBuilder b;
		b.header(7, 0, 1, 0, 1, 0).question("example.com", Type::A).opt(1232, false);
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_OPT, parse(b.data()));
	}

	void testRejectsTwoOpts()
	{
		const auto msg = query(0, 2).opt(1232, false).opt(1232, true).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_OPT, parse(msg));
	}

	void testRejectsNonRootOpt()
	{
		const auto named = query(0, 1).name("example.com").rrFixed(Type::OPT, 1232, 0, 0).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_OPT, parse(named));
		const auto pointed = query(0, 1).pointer(12).rrFixed(Type::OPT, 1232, 0, 0).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_OPT, parse(pointed));
	}

	void testRejectsOptionOverrunningOptRdata()
	{
		// Option claims 4 bytes of data but only 2 are in the RDATA.
		const auto msg = query(0, 1).opt(1232, false, {0x00, 0x0B, 0x00, 0x04, 0x00, 0x01}).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_OPT, parse(msg));
		const auto partialHeader = query(0, 1).opt(1232, false, {0x00, 0x0B, 0x00}).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_OPT, parse(partialHeader));
	}

	void testRejectsRdlengthPastEnd()
	{
		const auto msg = query(1, 0).pointer(12).rrFixed(Type::A, Class::IN, 60, 5).bytes({192, 0, 2, 1}).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::TRUNCATED, parse(msg));
	}

	void testRejectsTrailingData()
	{
		PacketBuilder b;
		b.bytes(loadHexCapture("example_aaaa_answer.hex")).u8(0);
		CPPUNIT_ASSERT_EQUAL(ParseError::TRAILING_DATA, parse(b.data()));
	}

	void testRejectsCompressionLoopInOwner()
	{
		PacketBuilder b = query(1, 0);
		const uint16_t owner = static_cast<uint16_t>(b.size());
		b.pointer(owner).rrFixed(Type::A, Class::IN, 60, 4).bytes({192, 0, 2, 1});
		CPPUNIT_ASSERT_EQUAL(ParseError::POINTER_LOOP, parse(b.data()));
	}

	void testRejectsRecordsOwnedByEndOfPointerChain()
	{
		// 8,000 pointers and 4,000 records (64 KB): 32 million jumps without the per-name limit.
		// Now the first owner stops after MAX_POINTER_JUMPS; the work is counted, not timed.
		const auto msg = chainAttack(8000, 4000);
		MessageInfo info;
		NameBudget budget(msg.size());
		CPPUNIT_ASSERT_EQUAL(ParseError::TOO_MANY_POINTERS, parseMessage(msg.data(), msg.size(), info, false, budget));
		CPPUNIT_ASSERT(budget.used() <= 2 * (MAX_POINTER_JUMPS + 1) + 8);
	}

	void testParsesRecordsOwnedByLongestLegalChainInLinearWork()
	{
		// Each owner is 128 jumps from its name's end: 5,000 x 128 steps if every owner walked the
		// chain. The first walk is remembered, so each further owner costs its pointer and a look-up.
		const size_t records = 5000;
		const auto msg = chainAttack(MAX_POINTER_JUMPS - 1, records);
		MessageInfo info;
		NameBudget budget(msg.size());
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(msg.data(), msg.size(), info, false, budget));
		CPPUNIT_ASSERT(budget.used() <= 2 * (records + 1) + 3 * (MAX_POINTER_JUMPS + 1));
	}

	void testStopsWhenNamesExhaustTheBudget()
	{
		// The budget is the backstop behind the memo: a parse never takes more steps than it allows.
		const auto msg = chainAttack(MAX_POINTER_JUMPS - 1, 100);
		MessageInfo info;
		NameBudget budget(40); // 160 steps
		CPPUNIT_ASSERT_EQUAL(ParseError::NAME_BUDGET_EXCEEDED,
							 parseMessage(msg.data(), msg.size(), info, false, budget));
		CPPUNIT_ASSERT(budget.used() <= budget.limit() + MAX_POINTER_JUMPS + MAX_NAME_LENGTH / 2 + 1);
	}

	void testParsesManyRecordsOwnedByDeepNameWithinBudget()
	{
		// An ip6.arpa PTR name has 34 labels; 2,000 records owned by a pointer to it (empty RDATA,
		// the densest possible) parse, and the name is walked once.
		std::string deep;
		for (int i = 0; i < 32; ++i)
			deep += "f.";
		deep += "ip6.arpa";
		PacketBuilder b;
		b.header(1, 0x8180, 1, 2000, 0, 0).question(deep, Type::PTR);
		for (int i = 0; i < 2000; ++i)
			b.pointer(12).rrFixed(Type::PTR, Class::IN, 60, 0);
		MessageInfo info;
		NameBudget budget(b.size());
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(b.data().data(), b.size(), info, false, budget));
		// The question's 34 labels and root, then per owner its pointer and the remembered rest.
		CPPUNIT_ASSERT_EQUAL(size_t(35 + 2000 * 2), budget.used());
	}

	void testChecksQueryCountsFromHeader()
	{
		const auto countsOf = [](uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
			Header h;
			h.qdcount = qd;
			h.ancount = an;
			h.nscount = ns;
			h.arcount = ar;
			return checkQueryCounts(h);
		};
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, countsOf(1, 0, 0, 0));
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, countsOf(1, 0, 0, MAX_QUERY_ADDITIONAL));
		CPPUNIT_ASSERT_EQUAL(ParseError::NO_QUESTION, countsOf(0, 0, 0, 0));
		CPPUNIT_ASSERT_EQUAL(ParseError::TOO_MANY_QUESTIONS, countsOf(2, 0, 0, 0));
		CPPUNIT_ASSERT_EQUAL(ParseError::QUERY_HAS_RECORDS, countsOf(1, 1, 0, 0));
		CPPUNIT_ASSERT_EQUAL(ParseError::QUERY_HAS_RECORDS, countsOf(1, 0, 1, 0));
		CPPUNIT_ASSERT_EQUAL(ParseError::QUERY_HAS_RECORDS, countsOf(1, 0, 0, MAX_QUERY_ADDITIONAL + 1));
	}

	void testParseQuestionReadsOnlyQuestionAndLoneOpt()
	{
		PacketBuilder withOpt = query(0, 1);
		const size_t questionEnd = withOpt.size();
		withOpt.opt(4096, true);
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseQuestion(withOpt.data().data(), withOpt.size(), info));
		CPPUNIT_ASSERT_EQUAL(questionEnd, info.questionEnd);
		CPPUNIT_ASSERT_EQUAL(uint16_t(Type::A), info.qtype);
		CPPUNIT_ASSERT(info.edns.present && info.edns.dnssecOk);
		CPPUNIT_ASSERT_EQUAL(uint16_t(4096), info.edns.udpPayloadSize);

		// The records are never looked at: the chain attack reads as its question alone, no OPT.
		const auto attack = chainAttack(8000, 4000);
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseQuestion(attack.data(), attack.size(), info));
		CPPUNIT_ASSERT_EQUAL(size_t(HEADER_SIZE + 15), info.qnameLength + HEADER_SIZE);
		CPPUNIT_ASSERT(!info.edns.present);

		PacketBuilder twoQuestions;
		twoQuestions.header(7, 0, 2, 0, 0, 0).question("a.example", Type::A).question("b.example", Type::A);
		CPPUNIT_ASSERT_EQUAL(ParseError::TOO_MANY_QUESTIONS,
							 parseQuestion(twoQuestions.data().data(), twoQuestions.size(), info));
	}

	void testNamesEveryParseError()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("none"), std::string(toString(ParseError::NONE)));
		CPPUNIT_ASSERT_EQUAL(std::string("pointer_loop"), std::string(toString(ParseError::POINTER_LOOP)));
		CPPUNIT_ASSERT_EQUAL(std::string("trailing_data"), std::string(toString(ParseError::TRAILING_DATA)));
		CPPUNIT_ASSERT_EQUAL(std::string("too_many_pointers"), std::string(toString(ParseError::TOO_MANY_POINTERS)));
		CPPUNIT_ASSERT_EQUAL(std::string("name_budget_exceeded"),
							 std::string(toString(ParseError::NAME_BUDGET_EXCEEDED)));
		CPPUNIT_ASSERT_EQUAL(std::string("query_has_records"), std::string(toString(ParseError::QUERY_HAS_RECORDS)));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(MessageTest, "dns");
