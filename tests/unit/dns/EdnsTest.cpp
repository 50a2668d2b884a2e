// EdnsTest.cpp - tests of OPT rewriting, removal and RFC 7830/8467 padding.
#include "dns/Edns.h"
#include "DnsTestHelpers.h"
#include "dns/Message.h"
#include "dns/Name.h"
#include "support/DnsTestTraits.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <initializer_list>
#include <string>

using namespace dnsproxy::dns;
using namespace dnsproxy::test;

namespace
{

std::vector<uint8_t> joined(std::initializer_list<std::vector<uint8_t>> parts)
{
	std::vector<uint8_t> out;
	for (const auto& part : parts)
		out.insert(out.end(), part.begin(), part.end());
	return out;
}

std::vector<uint8_t> nameAt(const std::vector<uint8_t>& msg, size_t offset)
{
	std::vector<uint8_t> out;
	CPPUNIT_ASSERT_EQUAL(ParseError::NONE, readName(msg.data(), msg.size(), offset, &out));
	return out;
}

/// MX answer whose additional section is: A for mail (owner pointer into the MX rdata), OPT,
/// then two records whose names point at bytes after the OPT (owner and CNAME rdata).
struct OptInTheMiddle
{
	std::vector<uint8_t> msg;
	size_t optOffset = 0;
};

OptInTheMiddle optInTheMiddle()
{
	PacketBuilder b;
	b.header(0x1111, 0x8180, 1, 1, 0, 4).question("example.com", Type::MX);
	b.pointer(12).rrFixed(Type::MX, Class::IN, 300, 9).u16(10);
	const uint16_t mail = static_cast<uint16_t>(b.size());
	b.name("mail", false).pointer(12);
	b.pointer(mail).rrFixed(Type::A, Class::IN, 300, 4).bytes({192, 0, 2, 25});
	OptInTheMiddle result;
	result.optOffset = b.size();
	b.opt(4096, true, ednsOption(10, {1, 2, 3, 4, 5, 6, 7, 8}));
	const uint16_t smtp = static_cast<uint16_t>(b.size());
	b.name("smtp", false).pointer(mail).rrFixed(Type::AAAA, Class::IN, 300, 16).bytes(std::vector<uint8_t>(16, 0x20));
	b.name("www", false).pointer(smtp).rrFixed(Type::CNAME, Class::IN, 300, 2).pointer(smtp);
	result.msg = b.data();
	return result;
}

} // namespace

class EdnsTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(EdnsTest);
	CPPUNIT_TEST(testRewriteAddsOptWhenAbsent);
	CPPUNIT_TEST(testRewriteKeepsFlagsSizeAndOtherOptions);
	CPPUNIT_TEST(testRewriteDropsListedOptions);
	CPPUNIT_TEST(testRewriteMovesOptFromMiddleOfAdditional);
	CPPUNIT_TEST(testRewriteRejectsMalformedMessage);
	CPPUNIT_TEST(testRefusesWhenKeptNameReadsIntoOpt);
	CPPUNIT_TEST(testRemoveOptFixesArcount);
	CPPUNIT_TEST(testRemoveOptFromMiddleKeepsOtherRecords);
	CPPUNIT_TEST(testRemoveOptWithoutOptIsCopy);
	CPPUNIT_TEST(testPadsCapturedQueryToMultipleOf128);
	CPPUNIT_TEST(testPadsQueryWithoutEdns);
	CPPUNIT_TEST(testPaddingIsMultipleOfBlockForEveryNameLength);
	CPPUNIT_TEST(testResizesExistingPadding);
	CPPUNIT_TEST(testPaddingRefusesToExceed65535);
	CPPUNIT_TEST(testPaddingRejectsZeroBlock);
	CPPUNIT_TEST(testHasOptionFindsOnlyListedCodes);
	CPPUNIT_TEST(testRewriteDropsClientSubnetAndCookieKeepsOthers);
	CPPUNIT_TEST(testParsedRewriteWithPaddingEqualsRewriteThenPad);
	CPPUNIT_TEST_SUITE_END();

public:
	void testRewriteAddsOptWhenAbsent()
	{
		const auto query = loadHexCapture("www_cname_noedns_query.hex");
		const auto out = rewriteOpt(query.data(), query.size(), 1400, {}, {{EdnsOptionCode::TCP_KEEPALIVE, {}}});
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(info.edns.present);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1400), info.edns.udpPayloadSize);
		CPPUNIT_ASSERT(!info.edns.dnssecOk);
		CPPUNIT_ASSERT(info.edns.hasKeepalive);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), info.header.arcount);
		CPPUNIT_ASSERT_EQUAL(query.size() + 11 + 4, out->size());
		CPPUNIT_ASSERT_EQUAL(std::vector<uint8_t>(query.begin() + 2, query.begin() + 10),
							 std::vector<uint8_t>(out->begin() + 2, out->begin() + 10));
	}

	void testRewriteKeepsFlagsSizeAndOtherOptions()
	{
		const auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		const auto out = rewriteOpt(query.data(), query.size(), 512, {}, {{EdnsOptionCode::TCP_KEEPALIVE, {}}});
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1232), info.edns.udpPayloadSize);
		CPPUNIT_ASSERT(info.edns.dnssecOk);
		CPPUNIT_ASSERT(info.edns.hasKeepalive);
		// The COOKIE option (11 + 12 bytes of the old OPT) is kept verbatim, keepalive after it.
		CPPUNIT_ASSERT_EQUAL(std::vector<uint8_t>(query.begin() + 29 + 11, query.end()),
							 std::vector<uint8_t>(out->begin() + 29 + 11, out->begin() + 29 + 23));
		CPPUNIT_ASSERT_EQUAL(query.size() + 4, out->size());
	}

	void testRewriteDropsListedOptions()
	{
		const auto query = loadHexCapture("kdig_padded_query.hex");
		const auto out = rewriteOpt(query.data(), query.size(), 1232, {EdnsOptionCode::PADDING}, {});
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(!info.edns.hasPadding);
		CPPUNIT_ASSERT_EQUAL(size_t(11), info.edns.rrLength);
		CPPUNIT_ASSERT_EQUAL(uint16_t(4096), info.edns.udpPayloadSize);
	}

	void testRewriteMovesOptFromMiddleOfAdditional()
	{
		const auto input = optInTheMiddle();
		CPPUNIT_ASSERT_EQUAL(input.optOffset, parsed(input.msg).edns.rrOffset);
		const auto out =
			rewriteOpt(input.msg.data(), input.msg.size(), 1232, {10}, {{EdnsOptionCode::PADDING, {0, 0}}});
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT_EQUAL(uint16_t(4), info.header.arcount);
		CPPUNIT_ASSERT_EQUAL(out->size() - 17, info.edns.rrOffset); // OPT is now last
		CPPUNIT_ASSERT(info.edns.dnssecOk);
		CPPUNIT_ASSERT_EQUAL(uint16_t(4096), info.edns.udpPayloadSize);
		CPPUNIT_ASSERT(info.edns.hasPadding);
		// Everything before the old OPT is untouched.
		CPPUNIT_ASSERT_EQUAL(std::vector<uint8_t>(input.msg.begin(), input.msg.begin() + 10),
							 std::vector<uint8_t>(out->begin(), out->begin() + 10));
		CPPUNIT_ASSERT_EQUAL(std::vector<uint8_t>(input.msg.begin() + 12, input.msg.begin() + input.optOffset),
							 std::vector<uint8_t>(out->begin() + 12, out->begin() + input.optOffset));
		// The moved records still name what they named: owners and the CNAME target.
		size_t pos = input.optOffset;
		CPPUNIT_ASSERT_EQUAL(wireName("smtp.mail.example.com"), nameAt(*out, pos));
		pos += 23 + 10 + 16;
		CPPUNIT_ASSERT_EQUAL(wireName("www.smtp.mail.example.com"), nameAt(*out, pos));
		pos += 27;
		CPPUNIT_ASSERT_EQUAL(Type::CNAME, readU16(out->data() + pos));
		CPPUNIT_ASSERT_EQUAL(uint16_t(23), readU16(out->data() + pos + 8));
		CPPUNIT_ASSERT_EQUAL(wireName("smtp.mail.example.com"), nameAt(*out, pos + 10));
	}

	void testRewriteRejectsMalformedMessage()
	{
		auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		query.pop_back();
		CPPUNIT_ASSERT(!rewriteOpt(query.data(), query.size(), 1232, {}, {}).has_value());
	}

	void testRefusesWhenKeptNameReadsIntoOpt()
	{
		// Found by fuzz_message_parse: the TXT rdata byte 0x0f at 41, read as a label by the
		// next owner (pointer to 41), runs over that record into the OPT at 54. Moving or
		// removing the OPT would change or break a name that stays in place.
		PacketBuilder b;
		b.header(1, 0x8180, 1, 1, 0, 2).question("example.com", Type::A);
		b.pointer(12).rrFixed(Type::TXT, Class::IN, 60, 1).u8(0x0F);
		b.pointer(41).rrFixed(10, Class::IN, 60, 0);
		CPPUNIT_ASSERT_EQUAL(size_t(54), b.size());
		b.opt(64, false);
		const MessageInfo info = parsed(b.data());
		CPPUNIT_ASSERT_EQUAL(size_t(54), info.edns.rrOffset);
		CPPUNIT_ASSERT(!rewriteOpt(b.data().data(), b.size(), 1232, {}, {{EdnsOptionCode::PADDING, {}}}));
		CPPUNIT_ASSERT(!removeOpt(b.data().data(), b.size()));
		CPPUNIT_ASSERT(!padMessage(b.data().data(), b.size(), 128));
	}

	void testRemoveOptFixesArcount()
	{
		const auto answer = loadHexCapture("example_a_dnssec_answer.hex");
		const auto out = removeOpt(answer.data(), answer.size());
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(!info.edns.present);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), info.header.arcount);
		CPPUNIT_ASSERT_EQUAL(answer.size() - 11, out->size());
	}

	void testRemoveOptFromMiddleKeepsOtherRecords()
	{
		const auto input = optInTheMiddle();
		const auto out = removeOpt(input.msg.data(), input.msg.size());
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(!info.edns.present);
		CPPUNIT_ASSERT_EQUAL(uint16_t(3), info.header.arcount);
		CPPUNIT_ASSERT_EQUAL(wireName("smtp.mail.example.com"), nameAt(*out, input.optOffset));
	}

	void testRemoveOptWithoutOptIsCopy()
	{
		const auto answer = loadHexCapture("www_cname_noedns_answer.hex");
		const auto out = removeOpt(answer.data(), answer.size());
		CPPUNIT_ASSERT(out.has_value());
		CPPUNIT_ASSERT_EQUAL(answer, *out);
	}

	void testPadsCapturedQueryToMultipleOf128()
	{
		const auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		const auto out = padMessage(query.data(), query.size(), 128);
		CPPUNIT_ASSERT(out.has_value());
		CPPUNIT_ASSERT_EQUAL(size_t(128), out->size());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(info.edns.hasPadding);
		CPPUNIT_ASSERT(info.edns.dnssecOk);
	}

	void testPadsQueryWithoutEdns()
	{
		const auto query = loadHexCapture("www_cname_noedns_query.hex");
		const auto out = padMessage(query.data(), query.size(), 128);
		CPPUNIT_ASSERT(out.has_value());
		CPPUNIT_ASSERT_EQUAL(size_t(128), out->size());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(info.edns.hasPadding);
		CPPUNIT_ASSERT_EQUAL(DEFAULT_UDP_PAYLOAD_SIZE, info.edns.udpPayloadSize);
	}

	void testPaddingIsMultipleOfBlockForEveryNameLength()
	{
		for (size_t labelLength = 1; labelLength <= 63; ++labelLength)
		{
			PacketBuilder b;
			b.header(3, 0x0100, 1, 0, 0, 1).question(std::string(labelLength, 'q') + ".example", Type::A);
			b.opt(1232, false);
			for (const size_t block : {size_t(128), size_t(468), size_t(1)})
			{
				const auto out = padMessage(b.data().data(), b.size(), block);
				CPPUNIT_ASSERT(out.has_value());
				CPPUNIT_ASSERT_EQUAL(size_t(0), out->size() % block);
				CPPUNIT_ASSERT(out->size() < b.size() + 4 + block);
				CPPUNIT_ASSERT(parsed(*out).edns.hasPadding);
			}
		}
	}

	void testResizesExistingPadding()
	{
		const auto query = loadHexCapture("kdig_padded_query.hex");
		const auto same = padMessage(query.data(), query.size(), 128);
		CPPUNIT_ASSERT(same.has_value());
		CPPUNIT_ASSERT_EQUAL(query, *same);
		const auto larger = padMessage(query.data(), query.size(), 256);
		CPPUNIT_ASSERT(larger.has_value());
		CPPUNIT_ASSERT_EQUAL(size_t(256), larger->size());
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), parsed(*larger).header.arcount);
	}

	void testPaddingRefusesToExceed65535()
	{
		PacketBuilder b;
		b.header(3, 0x8180, 1, 1, 0, 0).question("example.com", Type::TXT);
		b.pointer(12).rrFixed(Type::TXT, Class::IN, 60, 65470).bytes(std::vector<uint8_t>(65470, 'x'));
		CPPUNIT_ASSERT_EQUAL(size_t(65511), b.size());
		CPPUNIT_ASSERT(!padMessage(b.data().data(), b.size(), 128).has_value());
		CPPUNIT_ASSERT(rewriteOpt(b.data().data(), b.size(), 1232, {}, {}).has_value());
	}

	void testPaddingRejectsZeroBlock()
	{
		const auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		CPPUNIT_ASSERT(!padMessage(query.data(), query.size(), 0).has_value());
	}

	void testHasOptionFindsOnlyListedCodes()
	{
		PacketBuilder b;
		b.header(3, 0x0100, 1, 0, 0, 1).question("example.com", Type::A);
		b.opt(1232, true,
			  joined({ednsOption(3, {}), ednsOption(EdnsOptionCode::CLIENT_SUBNET, {0, 1, 24, 0, 192, 0, 2})}));
		const MessageInfo info = parsed(b.data());
		CPPUNIT_ASSERT(hasOption(b.data().data(), info.edns, clientPrivateOptions()));
		CPPUNIT_ASSERT(hasOption(b.data().data(), info.edns, {3}));
		CPPUNIT_ASSERT(!hasOption(b.data().data(), info.edns, connectionOptions()));
		CPPUNIT_ASSERT(!hasOption(b.data().data(), info.edns, {}));
		const auto plain = loadHexCapture("www_cname_noedns_query.hex");
		CPPUNIT_ASSERT(!hasOption(plain.data(), parsed(plain).edns, clientPrivateOptions()));
	}

	void testRewriteDropsClientSubnetAndCookieKeepsOthers()
	{
		// NSID request, ECS 192.0.2.0/24, a client cookie, an unknown option 65001: only the
		// client-private ones go; order, DO and the UDP size stay.
		const auto nsid = ednsOption(3, {});
		const auto unknown = ednsOption(65001, {7});
		PacketBuilder b;
		b.header(3, 0x0100, 1, 0, 0, 1).question("example.com", Type::A);
		b.opt(4000, true,
			  joined({nsid, ednsOption(EdnsOptionCode::CLIENT_SUBNET, {0, 1, 24, 0, 192, 0, 2}),
					  ednsOption(EdnsOptionCode::COOKIE, {1, 2, 3, 4, 5, 6, 7, 8}), unknown}));
		const MessageInfo in = parsed(b.data());
		const auto out = rewriteOpt(b.data().data(), b.size(), in, 1232, clientPrivateOptions(), {});
		CPPUNIT_ASSERT(out.has_value());
		const MessageInfo info = parsed(*out);
		CPPUNIT_ASSERT(!hasOption(out->data(), info.edns, clientPrivateOptions()));
		CPPUNIT_ASSERT(info.edns.dnssecOk);
		CPPUNIT_ASSERT_EQUAL(uint16_t(4000), info.edns.udpPayloadSize);
		CPPUNIT_ASSERT_EQUAL(
			joined({nsid, unknown}),
			std::vector<uint8_t>(out->begin() + static_cast<long>(info.edns.rrOffset) + 11, out->end()));
	}

	void testParsedRewriteWithPaddingEqualsRewriteThenPad()
	{
		const auto query = loadHexCapture("dig_example_a_dnssec_query.hex"); // carries a COOKIE
		const std::vector<EdnsOption> add{{EdnsOptionCode::TCP_KEEPALIVE, {}}};
		const auto twoSteps = rewriteOpt(query.data(), query.size(), 1232, {EdnsOptionCode::COOKIE}, add);
		CPPUNIT_ASSERT(twoSteps.has_value());
		const auto padded = padMessage(twoSteps->data(), twoSteps->size(), 128);
		CPPUNIT_ASSERT(padded.has_value());
		const auto oneStep =
			rewriteOpt(query.data(), query.size(), parsed(query), 1232, {EdnsOptionCode::COOKIE}, add, 128);
		CPPUNIT_ASSERT(oneStep.has_value());
		CPPUNIT_ASSERT_EQUAL(*padded, *oneStep);
		CPPUNIT_ASSERT_EQUAL(size_t(0), oneStep->size() % 128);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(EdnsTest, "dns");
