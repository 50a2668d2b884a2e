// AnswerCheckTest.cpp - one test per rule an upstream answer must pass (SPEC 4): QR, opcode, question, question-less
// errors.
#include "upstream/AnswerCheck.h"
#include "dns/Constants.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using namespace dnsproxy;
using dnsproxy::test::PacketBuilder;
using upstream::AnswerVerdict;

namespace CppUnit
{
template <> struct assertion_traits<AnswerVerdict>
{
	static bool equal(AnswerVerdict a, AnswerVerdict b)
	{
		return a == b;
	}
	static std::string toString(AnswerVerdict v)
	{
		return upstream::toString(v);
	}
};
} // namespace CppUnit

namespace
{

constexpr uint16_t RESPONSE = 0x8180; // QR, RD, RA, opcode QUERY, NOERROR
constexpr uint16_t OPCODE_STATUS = 2 << 11;

std::vector<uint8_t> query(uint16_t flags = 0x0100, const std::string& name = "www.example.com")
{
	return PacketBuilder().header(0x1234, flags, 1, 0, 0, 1).question(name, dns::Type::A).opt(1232, false).data();
}

/// An A answer for `name` with the given header flags (rcode in the low bits).
std::vector<uint8_t> answer(uint16_t flags, const std::string& name = "WWW.example.com", uint16_t type = dns::Type::A)
{
	PacketBuilder b;
	b.header(0x1234, flags, 1, 1, 0, 0).question(name, type);
	b.pointer(12).rrFixed(type, dns::Class::IN, 300, 4).bytes({192, 0, 2, 1});
	return b.data();
}

/// A question-less answer: rcode, then `records` A records in the answer section, an OPT if asked.
std::vector<uint8_t> questionless(uint8_t rcode, uint16_t records, bool opt, uint8_t extendedRcode = 0)
{
	PacketBuilder b;
	b.header(0x1234, static_cast<uint16_t>(RESPONSE | rcode), 0, records, 0, opt ? 1 : 0);
	for (uint16_t i = 0; i < records; ++i)
		b.rr("www.example.com", dns::Type::A, dns::Class::IN, 300, {192, 0, 2, 66});
	if (opt)
		b.opt(1232, false, {}, extendedRcode);
	return b.data();
}

AnswerVerdict check(const std::vector<uint8_t>& q, const std::vector<uint8_t>& a)
{
	dns::MessageInfo qi;
	CPPUNIT_ASSERT_EQUAL(dns::ParseError::NONE, dns::parseMessage(q.data(), q.size(), qi));
	dns::MessageInfo ai;
	return upstream::checkAnswer(q.data(), upstream::SentQuestion::of(qi), a.data(), a.size(), ai);
}

} // namespace

class AnswerCheckTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AnswerCheckTest);
	CPPUNIT_TEST(testAcceptsAnswerToTheQuestionInAnotherCase);
	CPPUNIT_TEST(testRejectsAnswerWithoutQr);
	CPPUNIT_TEST(testRejectsAnswerWithAnotherOpcode);
	CPPUNIT_TEST(testAcceptsOwnOpcodeOtherThanQuery);
	CPPUNIT_TEST(testRejectsAnotherName);
	CPPUNIT_TEST(testRejectsAnotherType);
	CPPUNIT_TEST(testRejectsUnparsableAnswer);
	CPPUNIT_TEST(testAcceptsQuestionlessErrorWithoutRecords);
	CPPUNIT_TEST(testAcceptsQuestionlessErrorWithOnlyOpt);
	CPPUNIT_TEST(testRejectsQuestionlessNoerror);
	CPPUNIT_TEST(testRejectsQuestionlessServfailAndNxdomain);
	CPPUNIT_TEST(testRejectsQuestionlessErrorWithRecords);
	CPPUNIT_TEST(testRejectsQuestionlessErrorWithExtendedRcode);
	CPPUNIT_TEST(testRejectsQuestionlessQrZero);
	CPPUNIT_TEST_SUITE_END();

public:
	void testAcceptsAnswerToTheQuestionInAnotherCase()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::OK, check(query(), answer(RESPONSE)));
	}

	void testRejectsAnswerWithoutQr()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::NOT_A_RESPONSE, check(query(), answer(RESPONSE & ~0x8000)));
	}

	void testRejectsAnswerWithAnotherOpcode()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::WRONG_OPCODE, check(query(), answer(RESPONSE | OPCODE_STATUS)));
	}

	void testAcceptsOwnOpcodeOtherThanQuery()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::OK, check(query(0x0100 | OPCODE_STATUS), answer(RESPONSE | OPCODE_STATUS)));
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::WRONG_OPCODE, check(query(0x0100 | OPCODE_STATUS), answer(RESPONSE)));
	}

	void testRejectsAnotherName()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::WRONG_QUESTION, check(query(), answer(RESPONSE, "www.example.org")));
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::WRONG_QUESTION, check(query(), answer(RESPONSE, "ww.example.com")));
	}

	void testRejectsAnotherType()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::WRONG_QUESTION,
							 check(query(), answer(RESPONSE, "www.example.com", dns::Type::AAAA)));
	}

	void testRejectsUnparsableAnswer()
	{
		auto a = answer(RESPONSE);
		a.pop_back();
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::MALFORMED, check(query(), a));
	}

	void testAcceptsQuestionlessErrorWithoutRecords()
	{
		for (const uint8_t rcode : {dns::Rcode::FORMERR, dns::Rcode::NOTIMP, dns::Rcode::REFUSED})
			CPPUNIT_ASSERT_EQUAL(AnswerVerdict::OK, check(query(), questionless(rcode, 0, false)));
	}

	void testAcceptsQuestionlessErrorWithOnlyOpt()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::OK, check(query(), questionless(dns::Rcode::FORMERR, 0, true)));
	}

	void testRejectsQuestionlessNoerror()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::QUESTIONLESS_NOT_ALLOWED,
							 check(query(), questionless(dns::Rcode::NOERROR, 0, false)));
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::QUESTIONLESS_NOT_ALLOWED,
							 check(query(), questionless(dns::Rcode::NOERROR, 1, false)));
	}

	void testRejectsQuestionlessServfailAndNxdomain()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::QUESTIONLESS_NOT_ALLOWED,
							 check(query(), questionless(dns::Rcode::SERVFAIL, 0, false)));
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::QUESTIONLESS_NOT_ALLOWED,
							 check(query(), questionless(dns::Rcode::NXDOMAIN, 0, false)));
	}

	void testRejectsQuestionlessErrorWithRecords()
	{
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::QUESTIONLESS_NOT_ALLOWED,
							 check(query(), questionless(dns::Rcode::REFUSED, 1, false)));
		// An authority record, and an additional record besides the OPT.
		PacketBuilder ns;
		ns.header(0x1234, RESPONSE | dns::Rcode::REFUSED, 0, 0, 1, 0)
			.rr("example.com", dns::Type::A, dns::Class::IN, 300, {192, 0, 2, 66});
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::QUESTIONLESS_NOT_ALLOWED, check(query(), ns.data()));
		PacketBuilder ar;
		ar.header(0x1234, RESPONSE | dns::Rcode::FORMERR, 0, 0, 0, 2)
			.rr("example.com", dns::Type::A, dns::Class::IN, 300, {192, 0, 2, 66})
			.opt(1232, false);
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::QUESTIONLESS_NOT_ALLOWED, check(query(), ar.data()));
	}

	void testRejectsQuestionlessErrorWithExtendedRcode()
	{
		// Header rcode 1 with extended bits 1: rcode 17, not FORMERR.
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::QUESTIONLESS_NOT_ALLOWED,
							 check(query(), questionless(dns::Rcode::FORMERR, 0, true, 1)));
	}

	void testRejectsQuestionlessQrZero()
	{
		auto a = questionless(dns::Rcode::REFUSED, 0, false);
		a[2] &= 0x7f;
		CPPUNIT_ASSERT_EQUAL(AnswerVerdict::NOT_A_RESPONSE, check(query(), a));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(AnswerCheckTest, "upstream");
