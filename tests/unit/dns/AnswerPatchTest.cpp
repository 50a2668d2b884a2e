// AnswerPatchTest.cpp - tests of dns::patchAnswerForClient: the client's ID, RD bit and name case, nothing else.
#include "dns/AnswerPatch.h"
#include "dns/Header.h"
#include "support/DnsTestTraits.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstring>

using namespace dnsproxy::dns;
using dnsproxy::test::loadHexCapture;

class AnswerPatchTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AnswerPatchTest);
	CPPUNIT_TEST(testWritesClientIdAndNameCase);
	CPPUNIT_TEST(testLeavesAnotherNameAlone);
	CPPUNIT_TEST(testCopiesClientRdBit);
	CPPUNIT_TEST_SUITE_END();

public:
	void testWritesClientIdAndNameCase()
	{
		auto answer = loadHexCapture("www_cname_noedns_answer.hex");
		auto query = loadHexCapture("www_cname_noedns_query.hex");
		MessageInfo q, a;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(query.data(), query.size(), q));
		// 0x20: the client asked with mixed case.
		query[q.qnameOffset + 1] = 'W';
		writeId(query.data(), 0xbeef);
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(query.data(), query.size(), q));
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(answer.data(), answer.size(), a));
		const auto before = answer;
		CPPUNIT_ASSERT(patchAnswerForClient(answer.data(), answer.size(), a, query.data(), q));
		CPPUNIT_ASSERT_EQUAL(uint16_t(0xbeef), readId(answer.data()));
		CPPUNIT_ASSERT_EQUAL(uint8_t('W'), answer[a.qnameOffset + 1]);
		CPPUNIT_ASSERT_EQUAL(before.size(), answer.size());
		CPPUNIT_ASSERT(std::memcmp(before.data() + a.questionEnd, answer.data() + a.questionEnd,
								   answer.size() - a.questionEnd) == 0);
	}

	void testLeavesAnotherNameAlone()
	{
		auto answer = loadHexCapture("www_cname_noedns_answer.hex");
		auto query = loadHexCapture("www_cname_noedns_query.hex");
		MessageInfo q, a;
		query[query.size() - 6] ^= 0x01; // last letter of the name: another name of the same length
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(query.data(), query.size(), q));
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(answer.data(), answer.size(), a));
		const auto before = answer;
		CPPUNIT_ASSERT(!patchAnswerForClient(answer.data(), answer.size(), a, query.data(), q));
		CPPUNIT_ASSERT(std::memcmp(before.data() + 2, answer.data() + 2, answer.size() - 2) == 0);
	}

	void testCopiesClientRdBit()
	{
		// Upstream queries always carry RD=1 (SPEC 4); a client that sent RD=0 gets RD=0 back
		// (RFC 1035 4.1.1), and every other header bit stays as the upstream sent it.
		auto answer = loadHexCapture("www_cname_noedns_answer.hex");
		auto query = loadHexCapture("www_cname_noedns_query.hex");
		MessageInfo q, a;
		query[2] &= static_cast<uint8_t>(~(Header::RD >> 8));
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(query.data(), query.size(), q));
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(answer.data(), answer.size(), a));
		CPPUNIT_ASSERT(a.header.rd());
		const uint16_t flags = a.header.flags;
		CPPUNIT_ASSERT(patchAnswerForClient(answer.data(), answer.size(), a, query.data(), q));
		CPPUNIT_ASSERT_EQUAL(uint16_t(flags & ~Header::RD), readU16(answer.data() + 2));
		query[2] |= static_cast<uint8_t>(Header::RD >> 8);
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(query.data(), query.size(), q));
		CPPUNIT_ASSERT(patchAnswerForClient(answer.data(), answer.size(), a, query.data(), q));
		CPPUNIT_ASSERT_EQUAL(flags, readU16(answer.data() + 2));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(AnswerPatchTest, "dns");
