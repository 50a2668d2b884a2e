// NameTest.cpp - tests of name decompression limits (loops, bad pointers, lengths) and name helpers.
#include "dns/Name.h"
#include "support/DnsTestTraits.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

using namespace dnsproxy::dns;
using namespace dnsproxy::test;

namespace
{

PacketBuilder withHeader()
{
	PacketBuilder b;
	b.header(1, 0, 1, 0, 0, 0);
	return b;
}

ParseError read(const std::vector<uint8_t>& msg, size_t start, std::vector<uint8_t>* out = nullptr)
{
	size_t offset = start;
	return readName(msg.data(), msg.size(), offset, out);
}

/// `msg` with zeros appended up to 512 octets: long enough for NameBudget to keep its memo.
std::vector<uint8_t> padded(std::vector<uint8_t> msg)
{
	if (msg.size() < 512)
		msg.resize(512, 0);
	return msg;
}

/// "a." at 12, then `count` pointers, each to the one before it, the first to 12; returns the
/// message and sets `last` to the offset of the last pointer (reading there takes `count` jumps).
std::vector<uint8_t> pointerChain(size_t count, size_t& last)
{
	PacketBuilder b = withHeader();
	b.name("a");
	uint16_t target = HEADER_SIZE;
	for (size_t i = 0; i < count; ++i)
	{
		const uint16_t here = static_cast<uint16_t>(b.size());
		b.pointer(target);
		target = here;
	}
	last = target;
	return b.data();
}

} // namespace

class NameTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(NameTest);
	CPPUNIT_TEST(testReadsUncompressedName);
	CPPUNIT_TEST(testFollowsCompressionPointerInCapturedAnswer);
	CPPUNIT_TEST(testReportsWhetherNameWasCompressed);
	CPPUNIT_TEST(testRejectsCompressionLoopToItself);
	CPPUNIT_TEST(testRejectsTwoPointerCycle);
	CPPUNIT_TEST(testRejectsPointerBackIntoOwnLabels);
	CPPUNIT_TEST(testRejectsForwardPointer);
	CPPUNIT_TEST(testRejectsPointerOutsideMessage);
	CPPUNIT_TEST(testRejectsPointerIntoHeader);
	CPPUNIT_TEST(testAcceptsNameOfExactly255Octets);
	CPPUNIT_TEST(testRejectsNameLongerThan255Octets);
	CPPUNIT_TEST(testRejectsOverlongNameAssembledFromPointers);
	CPPUNIT_TEST(testFollowsPointerChainUpToJumpLimit);
	CPPUNIT_TEST(testRejectsPointerChainLongerThanJumpLimit);
	CPPUNIT_TEST(testParsesLegalNameWithPointerBeforeEveryLabel);
	CPPUNIT_TEST(testChargesBudgetWithStepsTaken);
	CPPUNIT_TEST(testRejectsNameThatExhaustsBudget);
	CPPUNIT_TEST(testRememberedSuffixStillCountsTowardsLimits);
	CPPUNIT_TEST(testRememberedSuffixIsPerBudget);
	CPPUNIT_TEST(testRejects64ByteLabel);
	CPPUNIT_TEST(testRejectsExtendedLabelTypes);
	CPPUNIT_TEST(testRejectsEveryTruncation);
	CPPUNIT_TEST(testLeavesOffsetAndOutputUntouchedOnError);
	CPPUNIT_TEST(testComparesNamesIgnoringAsciiCase);
	CPPUNIT_TEST(testLowerCasesLabelBytesOnly);
	CPPUNIT_TEST(testFormatsNameAsText);
	CPPUNIT_TEST(testEscapesDotsAndNonPrintables);
	CPPUNIT_TEST(testParsesTextNameWithAndWithoutTrailingDot);
	CPPUNIT_TEST(testParsesEscapesInText);
	CPPUNIT_TEST(testRejectsInvalidTextNames);
	CPPUNIT_TEST_SUITE_END();

public:
	void testReadsUncompressedName()
	{
		const auto msg = withHeader().name("www.example.com").u16(1).u16(1).data();
		size_t offset = HEADER_SIZE;
		std::vector<uint8_t> out;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, &out));
		CPPUNIT_ASSERT_EQUAL(size_t(HEADER_SIZE + 17), offset);
		CPPUNIT_ASSERT_EQUAL(wireName("www.example.com"), out);
	}

	void testFollowsCompressionPointerInCapturedAnswer()
	{
		// Two NS RRs: owner c00c at 29, rdata "ns2" + c00c at 41.
		const auto msg = loadHexCapture("example_ns_answer.hex");
		size_t offset = 29;
		std::vector<uint8_t> owner;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, &owner));
		CPPUNIT_ASSERT_EQUAL(size_t(31), offset);
		CPPUNIT_ASSERT_EQUAL(wireName("example.com"), owner);
		offset = 41;
		std::vector<uint8_t> target;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, &target));
		CPPUNIT_ASSERT_EQUAL(size_t(47), offset);
		CPPUNIT_ASSERT_EQUAL(wireName("ns2.example.com"), target);
	}

	void testReportsWhetherNameWasCompressed()
	{
		const auto msg = loadHexCapture("example_ns_answer.hex");
		size_t offset = 12;
		bool compressed = true;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, nullptr, &compressed));
		CPPUNIT_ASSERT(!compressed);
		offset = 41;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, nullptr, &compressed));
		CPPUNIT_ASSERT(compressed);
	}

	void testRejectsCompressionLoopToItself()
	{
		const auto msg = withHeader().pointer(12).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::POINTER_LOOP, read(msg, 12));
	}

	void testRejectsTwoPointerCycle()
	{
		// 12 -> 14 and 14 -> 12: entered at 14 the backward hop is legal, the next one closes the loop.
		const auto msg = withHeader().pointer(14).pointer(12).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::POINTER_LOOP, read(msg, 14));
		CPPUNIT_ASSERT(read(msg, 12) != ParseError::NONE);
	}

	void testRejectsPointerBackIntoOwnLabels()
	{
		const auto msg = withHeader().name("a", false).pointer(12).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::POINTER_LOOP, read(msg, 12));
	}

	void testRejectsForwardPointer()
	{
		const auto msg = withHeader().pointer(14).name("example").data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_POINTER, read(msg, 12));
	}

	void testRejectsPointerOutsideMessage()
	{
		const auto msg = withHeader().name("example").pointer(0x3FFF).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_POINTER, read(msg, 21));
	}

	void testRejectsPointerIntoHeader()
	{
		const auto msg = withHeader().pointer(4).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_POINTER, read(msg, 12));
	}

	void testAcceptsNameOfExactly255Octets()
	{
		const std::string l63(63, 'a');
		const std::string name = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b'); // 3*64 + 62 + 1 = 255
		const auto msg = withHeader().name(name).data();
		std::vector<uint8_t> out;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, read(msg, 12, &out));
		CPPUNIT_ASSERT_EQUAL(size_t(255), out.size());
	}

	void testRejectsNameLongerThan255Octets()
	{
		const std::string l63(63, 'a');
		const auto msg = withHeader().name(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b')).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::NAME_TOO_LONG, read(msg, 12));
	}

	void testRejectsOverlongNameAssembledFromPointers()
	{
		// 200 octets at 12, then 63+1 octets of labels pointing to it: 264 > 255.
		const std::string l49(49, 'x');
		PacketBuilder b = withHeader();
		b.name(l49 + "." + l49 + "." + l49 + "." + l49); // 4*50 + 1 = 201 octets
		const size_t second = b.size();
		b.name(std::string(63, 'y'), false).pointer(12);
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, read(b.data(), 12));
		CPPUNIT_ASSERT_EQUAL(ParseError::NAME_TOO_LONG, read(b.data(), second));
	}

	void testFollowsPointerChainUpToJumpLimit()
	{
		size_t last = 0;
		const auto msg = pointerChain(MAX_POINTER_JUMPS, last);
		std::vector<uint8_t> out;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, read(msg, last, &out));
		CPPUNIT_ASSERT_EQUAL(wireName("a"), out);
	}

	void testRejectsPointerChainLongerThanJumpLimit()
	{
		// Pointers to pointers add no label: 129 jumps cannot be a legal name, and without the
		// limit 4,000 records owned by the end of an 8,000-pointer chain cost 32 million jumps.
		size_t last = 0;
		const auto msg = pointerChain(MAX_POINTER_JUMPS + 1, last);
		CPPUNIT_ASSERT_EQUAL(ParseError::TOO_MANY_POINTERS, read(msg, last));
		const auto attack = pointerChain(8000, last);
		CPPUNIT_ASSERT_EQUAL(ParseError::TOO_MANY_POINTERS, read(attack, last));
	}

	void testParsesLegalNameWithPointerBeforeEveryLabel()
	{
		// The most compressed legal name: 127 one-octet labels (255 octets), each label stored
		// apart and followed by a pointer to the next, the last to a root octet, and a pointer to
		// the first label: 128 jumps.
		PacketBuilder b = withHeader();
		b.u8(0);
		uint16_t next = HEADER_SIZE;
		for (int i = 0; i < 127; ++i)
		{
			const uint16_t here = static_cast<uint16_t>(b.size());
			b.name("x", false).pointer(next);
			next = here;
		}
		const size_t start = b.size();
		b.pointer(next);
		std::vector<uint8_t> out;
		size_t offset = start;
		NameBudget budget(b.size());
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(b.data().data(), b.size(), offset, &out, nullptr, &budget));
		CPPUNIT_ASSERT_EQUAL(size_t(MAX_NAME_LENGTH), out.size());
		CPPUNIT_ASSERT_EQUAL(start + 2, offset);
		CPPUNIT_ASSERT_EQUAL(size_t(128 + 127 + 1), budget.used()); // jumps, labels, root
	}

	void testChargesBudgetWithStepsTaken()
	{
		const auto msg = padded(withHeader().name("www.example.com").pointer(12).data());
		NameBudget budget(msg.size());
		CPPUNIT_ASSERT(budget.remembers());
		size_t offset = HEADER_SIZE;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, nullptr, nullptr, &budget));
		CPPUNIT_ASSERT_EQUAL(size_t(4), budget.used()); // three labels and the root
		// The pointer, then 12 is known from the first name: the rest is not walked again.
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, nullptr, nullptr, &budget));
		CPPUNIT_ASSERT_EQUAL(size_t(6), budget.used());
		CPPUNIT_ASSERT_EQUAL(msg.size() * NAME_STEPS_PER_OCTET, budget.limit());

		// Below 512 octets there is no memo: the same names walk in full, within the allowance.
		const auto small = withHeader().name("www.example.com").pointer(12).data();
		NameBudget smallBudget(small.size());
		CPPUNIT_ASSERT(!smallBudget.remembers());
		offset = HEADER_SIZE;
		readName(small.data(), small.size(), offset, nullptr, nullptr, &smallBudget);
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE,
							 readName(small.data(), small.size(), offset, nullptr, nullptr, &smallBudget));
		CPPUNIT_ASSERT_EQUAL(size_t(9), smallBudget.used());
	}

	void testRejectsNameThatExhaustsBudget()
	{
		const auto msg = withHeader().name("www.example.com").data();
		NameBudget budget(1); // 4 steps: the name takes 4, the next reading of it goes over
		size_t offset = HEADER_SIZE;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, nullptr, nullptr, &budget));
		offset = HEADER_SIZE;
		std::vector<uint8_t> out = {42};
		CPPUNIT_ASSERT_EQUAL(ParseError::NAME_BUDGET_EXCEEDED,
							 readName(msg.data(), msg.size(), offset, &out, nullptr, &budget));
		CPPUNIT_ASSERT_EQUAL(size_t(HEADER_SIZE), offset);
		CPPUNIT_ASSERT_EQUAL(std::vector<uint8_t>{42}, out);
	}

	void testRememberedSuffixStillCountsTowardsLimits()
	{
		// 201 octets at 12, remembered; then 64 octets of labels pointing there: 265 > 255.
		const std::string l49(49, 'x');
		PacketBuilder b = withHeader();
		b.name(l49 + "." + l49 + "." + l49 + "." + l49);
		const size_t second = b.size();
		b.name(std::string(63, 'y'), false).pointer(12);
		const auto msg = padded(b.data());
		NameBudget budget(msg.size());
		size_t offset = HEADER_SIZE;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, nullptr, nullptr, &budget));
		offset = second;
		CPPUNIT_ASSERT_EQUAL(ParseError::NAME_TOO_LONG,
							 readName(msg.data(), msg.size(), offset, nullptr, nullptr, &budget));

		// A chain of 128 pointers is fine and remembered; one more pointer in front is 129 jumps.
		size_t last = 0;
		PacketBuilder chainBuilder;
		chainBuilder.bytes(pointerChain(MAX_POINTER_JUMPS, last));
		const size_t front = chainBuilder.size();
		chainBuilder.pointer(static_cast<uint16_t>(last));
		const auto chain = padded(chainBuilder.data());
		NameBudget chainBudget(chain.size());
		offset = last;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE,
							 readName(chain.data(), chain.size(), offset, nullptr, nullptr, &chainBudget));
		const size_t walked = chainBudget.used();
		offset = front;
		CPPUNIT_ASSERT_EQUAL(ParseError::TOO_MANY_POINTERS,
							 readName(chain.data(), chain.size(), offset, nullptr, nullptr, &chainBudget));
		CPPUNIT_ASSERT_EQUAL(walked + 2, chainBudget.used()); // the pointer and the look-up
	}

	void testRememberedSuffixIsPerBudget()
	{
		// What one message taught must not leak into another parsed on the same thread: the same
		// offsets hold a valid name in the first and a loop in the second.
		const auto good = padded(withHeader().name("www.example.com").pointer(12).data());
		NameBudget first(good.size());
		size_t offset = HEADER_SIZE;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(good.data(), good.size(), offset, nullptr, nullptr, &first));
		auto bad = good;
		bad[HEADER_SIZE] = 0xC0; // 12 now points at itself
		bad[HEADER_SIZE + 1] = HEADER_SIZE;
		NameBudget second(bad.size());
		offset = HEADER_SIZE + 17; // the pointer to 12
		CPPUNIT_ASSERT_EQUAL(ParseError::POINTER_LOOP,
							 readName(bad.data(), bad.size(), offset, nullptr, nullptr, &second));
	}

	void testRejects64ByteLabel()
	{
		const auto msg = withHeader().u8(64).bytes(std::vector<uint8_t>(64, 'a')).u8(0).data();
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_LABEL, read(msg, 12));
	}

	void testRejectsExtendedLabelTypes()
	{
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_LABEL, read(withHeader().u8(0x41).u8(0).data(), 12));
		CPPUNIT_ASSERT_EQUAL(ParseError::BAD_LABEL, read(withHeader().u8(0x80).u8(0).data(), 12));
	}

	void testRejectsEveryTruncation()
	{
		const auto msg = loadHexCapture("example_ns_answer.hex");
		// The NS rdata name "ns2" + pointer occupies 41..46.
		for (size_t len = 0; len < 47; ++len)
		{
			size_t offset = 41;
			CPPUNIT_ASSERT(readName(msg.data(), len, offset) != ParseError::NONE);
		}
	}

	void testLeavesOffsetAndOutputUntouchedOnError()
	{
		const auto msg = withHeader().name("abc", false).pointer(12).data();
		size_t offset = 12;
		std::vector<uint8_t> out = {42};
		CPPUNIT_ASSERT(readName(msg.data(), msg.size(), offset, &out) != ParseError::NONE);
		CPPUNIT_ASSERT_EQUAL(size_t(12), offset);
		CPPUNIT_ASSERT_EQUAL(std::vector<uint8_t>{42}, out);
	}

	void testComparesNamesIgnoringAsciiCase()
	{
		const auto a = wireName("WwW.Example.COM");
		const auto b = wireName("www.example.com");
		const auto c = wireName("www.example.org");
		CPPUNIT_ASSERT(namesEqualIgnoreCase(a.data(), a.size(), b.data(), b.size()));
		CPPUNIT_ASSERT(!namesEqualIgnoreCase(a.data(), a.size(), c.data(), c.size()));
		CPPUNIT_ASSERT(!namesEqualIgnoreCase(a.data(), a.size(), b.data(), b.size() - 1));
		const auto at = wireName("a@");
		const auto backtick = wireName("a`"); // 0x40 vs 0x60 differ only in bit 5 but are not letters
		CPPUNIT_ASSERT(!namesEqualIgnoreCase(at.data(), at.size(), backtick.data(), backtick.size()));
	}

	void testLowerCasesLabelBytesOnly()
	{
		auto name = wireName("WwW.ExAmple.COM");
		toLowerWire(name.data(), name.size());
		CPPUNIT_ASSERT_EQUAL(wireName("www.example.com"), name);
	}

	void testFormatsNameAsText()
	{
		const auto name = wireName("www.example.com");
		CPPUNIT_ASSERT_EQUAL(std::string("www.example.com."), nameToString(name.data(), name.size()));
		const uint8_t root[] = {0};
		CPPUNIT_ASSERT_EQUAL(std::string("."), nameToString(root, 1));
	}

	void testEscapesDotsAndNonPrintables()
	{
		const std::vector<uint8_t> name = {3, 'a', '.', 'b', 2, 0x07, '\\', 3, 'c', ' ', 0xFF, 0};
		CPPUNIT_ASSERT_EQUAL(std::string("a\\.b.\\007\\\\.c\\032\\255."), nameToString(name.data(), name.size()));
	}

	void testParsesTextNameWithAndWithoutTrailingDot()
	{
		CPPUNIT_ASSERT_EQUAL(wireName("www.example.com"), *nameFromString("www.example.com"));
		CPPUNIT_ASSERT_EQUAL(wireName("www.example.com"), *nameFromString("www.example.com."));
		CPPUNIT_ASSERT_EQUAL(std::vector<uint8_t>{0}, *nameFromString("."));
	}

	void testParsesEscapesInText()
	{
		const std::vector<uint8_t> expected = {3, 'a', '.', 'b', 2, 0x07, '\\', 3, 'c', ' ', 0xFF, 0};
		CPPUNIT_ASSERT_EQUAL(expected, *nameFromString("a\\.b.\\007\\\\.c\\032\\255."));
		const auto roundTrip = nameFromString(nameToString(expected.data(), expected.size()));
		CPPUNIT_ASSERT_EQUAL(expected, *roundTrip);
	}

	void testRejectsInvalidTextNames()
	{
		CPPUNIT_ASSERT(!nameFromString(""));
		CPPUNIT_ASSERT(!nameFromString("a..b"));
		CPPUNIT_ASSERT(!nameFromString(".a"));
		CPPUNIT_ASSERT(!nameFromString("a\\"));
		CPPUNIT_ASSERT(!nameFromString("a\\25"));
		CPPUNIT_ASSERT(!nameFromString("a\\256"));
		CPPUNIT_ASSERT(!nameFromString(std::string(64, 'a')));
		CPPUNIT_ASSERT(nameFromString(std::string(63, 'a')));
		const std::string l63(63, 'a');
		CPPUNIT_ASSERT(nameFromString(l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b')));
		CPPUNIT_ASSERT(!nameFromString(l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b')));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(NameTest, "dns");
