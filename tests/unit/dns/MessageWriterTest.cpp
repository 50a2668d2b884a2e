// MessageWriterTest.cpp - tests of message building: counts, owner-name compression, OPT, limits.
#include "dns/MessageWriter.h"
#include "dns/Message.h"
#include "dns/Name.h"
#include "support/DnsTestTraits.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy::dns;
using dnsproxy::test::PacketBuilder;
using dnsproxy::test::wireName;

namespace
{

const std::vector<uint8_t> ADDRESS = {192, 0, 2, 1};

} // namespace

class MessageWriterTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(MessageWriterTest);
	CPPUNIT_TEST(testWritesHeaderWithMaintainedCounts);
	CPPUNIT_TEST(testWritesQuestionUncompressed);
	CPPUNIT_TEST(testCompressesOwnerAgainstQuestion);
	CPPUNIT_TEST(testCompressesSuffixOfEarlierOwner);
	CPPUNIT_TEST(testCompressesCaseInsensitively);
	CPPUNIT_TEST(testWritesOptRecord);
	CPPUNIT_TEST(testRefusesSecondOpt);
	CPPUNIT_TEST(testRefusesSectionsOutOfOrder);
	CPPUNIT_TEST(testRefusesToExceedMaxSize);
	CPPUNIT_TEST(testRefusesMalformedName);
	CPPUNIT_TEST(testOutputParsesBack);
	CPPUNIT_TEST_SUITE_END();

public:
	void testWritesHeaderWithMaintainedCounts()
	{
		MessageWriter writer;
		Header header;
		header.id = 0x4242;
		header.flags = 0x8180;
		header.qdcount = 9; // ignored
		writer.setHeader(header);
		const auto name = wireName("example.com");
		CPPUNIT_ASSERT(writer.addQuestion(name.data(), name.size(), Type::A, Class::IN));
		CPPUNIT_ASSERT(writer.addRecord(1, name.data(), name.size(), Type::A, Class::IN, 60, ADDRESS.data(), 4));
		CPPUNIT_ASSERT(writer.addRecord(1, name.data(), name.size(), Type::A, Class::IN, 60, ADDRESS.data(), 4));
		const auto msg = writer.finish();
		const std::vector<uint8_t> expected = {0x42, 0x42, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0};
		CPPUNIT_ASSERT_EQUAL(expected, std::vector<uint8_t>(msg.begin(), msg.begin() + 12));
		CPPUNIT_ASSERT_EQUAL(msg.size(), writer.size());
	}

	void testWritesQuestionUncompressed()
	{
		MessageWriter writer;
		const auto name = wireName("www.example.com");
		CPPUNIT_ASSERT(writer.addQuestion(name.data(), name.size(), Type::AAAA, Class::IN));
		const auto msg = writer.finish();
		PacketBuilder expected;
		expected.header(0, 0, 1, 0, 0, 0).question("www.example.com", Type::AAAA);
		CPPUNIT_ASSERT_EQUAL(expected.data(), msg);
	}

	void testCompressesOwnerAgainstQuestion()
	{
		MessageWriter writer;
		const auto name = wireName("example.com");
		writer.addQuestion(name.data(), name.size(), Type::A, Class::IN);
		writer.addRecord(1, name.data(), name.size(), Type::A, Class::IN, 300, ADDRESS.data(), 4);
		PacketBuilder expected;
		expected.header(0, 0, 1, 1, 0, 0).question("example.com", Type::A);
		expected.pointer(12).rrFixed(Type::A, Class::IN, 300, 4).bytes(ADDRESS);
		CPPUNIT_ASSERT_EQUAL(expected.data(), writer.finish());
	}

	void testCompressesSuffixOfEarlierOwner()
	{
		MessageWriter writer;
		const auto question = wireName("example.com");
		const auto www = wireName("www.example.com");
		const auto mail = wireName("mail.www.example.com");
		writer.addQuestion(question.data(), question.size(), Type::A, Class::IN);
		writer.addRecord(1, www.data(), www.size(), Type::A, Class::IN, 1, ADDRESS.data(), 4);
		writer.addRecord(3, mail.data(), mail.size(), Type::A, Class::IN, 1, ADDRESS.data(), 4);
		PacketBuilder expected;
		expected.header(0, 0, 1, 1, 0, 1).question("example.com", Type::A);
		const uint16_t wwwAt = static_cast<uint16_t>(expected.size());
		expected.name("www", false).pointer(12).rrFixed(Type::A, Class::IN, 1, 4).bytes(ADDRESS);
		expected.name("mail", false).pointer(wwwAt).rrFixed(Type::A, Class::IN, 1, 4).bytes(ADDRESS);
		CPPUNIT_ASSERT_EQUAL(expected.data(), writer.finish());
	}

	void testCompressesCaseInsensitively()
	{
		MessageWriter writer;
		const auto question = wireName("Example.COM");
		const auto owner = wireName("example.com");
		writer.addQuestion(question.data(), question.size(), Type::A, Class::IN);
		writer.addRecord(1, owner.data(), owner.size(), Type::A, Class::IN, 1, ADDRESS.data(), 4);
		const auto msg = writer.finish();
		CPPUNIT_ASSERT_EQUAL(uint8_t(0xC0), msg[29]);
		CPPUNIT_ASSERT_EQUAL(uint8_t(12), msg[30]);
	}

	void testWritesOptRecord()
	{
		MessageWriter writer;
		CPPUNIT_ASSERT(writer.addOpt(1232, true, {{EdnsOptionCode::TCP_KEEPALIVE, {0x00, 0x64}}}, 1, 0));
		PacketBuilder expected;
		expected.header(0, 0, 0, 0, 0, 1).opt(1232, true, {0x00, 0x0B, 0x00, 0x02, 0x00, 0x64}, 1, 0);
		CPPUNIT_ASSERT_EQUAL(expected.data(), writer.finish());
	}

	void testRefusesSecondOpt()
	{
		MessageWriter writer;
		CPPUNIT_ASSERT(writer.addOpt(1232, false, {}));
		CPPUNIT_ASSERT(!writer.addOpt(1232, false, {}));
	}

	void testRefusesSectionsOutOfOrder()
	{
		MessageWriter writer;
		const auto name = wireName("example.com");
		CPPUNIT_ASSERT(writer.addRecord(2, name.data(), name.size(), Type::A, Class::IN, 1, ADDRESS.data(), 4));
		CPPUNIT_ASSERT(!writer.addRecord(1, name.data(), name.size(), Type::A, Class::IN, 1, ADDRESS.data(), 4));
		CPPUNIT_ASSERT(!writer.addQuestion(name.data(), name.size(), Type::A, Class::IN));
		CPPUNIT_ASSERT(!writer.addRecord(4, name.data(), name.size(), Type::A, Class::IN, 1, ADDRESS.data(), 4));
	}

	void testRefusesToExceedMaxSize()
	{
		MessageWriter writer(12 + 17);
		const auto name = wireName("example.com");
		CPPUNIT_ASSERT(writer.addQuestion(name.data(), name.size(), Type::A, Class::IN));
		CPPUNIT_ASSERT(!writer.addRecord(1, name.data(), name.size(), Type::A, Class::IN, 1, ADDRESS.data(), 4));
		CPPUNIT_ASSERT(!writer.addOpt(1232, false, {}));
		CPPUNIT_ASSERT_EQUAL(size_t(29), writer.finish().size());
	}

	void testRefusesMalformedName()
	{
		MessageWriter writer;
		const std::vector<uint8_t> unterminated = {3, 'w', 'w', 'w'};
		const std::vector<uint8_t> overrun = {5, 'w', 0};
		const std::vector<uint8_t> pointer = {0xC0, 12};
		CPPUNIT_ASSERT(!writer.addQuestion(unterminated.data(), unterminated.size(), Type::A, Class::IN));
		CPPUNIT_ASSERT(!writer.addQuestion(overrun.data(), overrun.size(), Type::A, Class::IN));
		CPPUNIT_ASSERT(!writer.addQuestion(pointer.data(), pointer.size(), Type::A, Class::IN));
		CPPUNIT_ASSERT_EQUAL(size_t(12), writer.finish().size());
	}

	void testOutputParsesBack()
	{
		MessageWriter writer;
		const auto question = wireName("www.example.com");
		const auto target = wireName("example.com");
		writer.addQuestion(question.data(), question.size(), Type::A, Class::IN);
		writer.addRecord(1, question.data(), question.size(), Type::CNAME, Class::IN, 300, target.data(),
						 target.size());
		writer.addRecord(1, target.data(), target.size(), Type::A, Class::IN, 300, ADDRESS.data(), 4);
		writer.addOpt(1232, true, {});
		const auto msg = writer.finish();
		MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(ParseError::NONE, parseMessage(msg.data(), msg.size(), info));
		CPPUNIT_ASSERT(info.edns.dnssecOk);
		CPPUNIT_ASSERT_EQUAL(uint16_t(2), info.header.ancount);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(MessageWriterTest, "dns");
