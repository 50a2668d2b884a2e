// UpstreamQueryTest.cpp - the query as it goes upstream (RD=1, no client-private EDNS options).
#include "upstream/UpstreamQuery.h"
#include "dns/Edns.h"
#include "dns/Header.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using namespace dnsproxy;
using dnsproxy::test::ednsOption;
using dnsproxy::test::PacketBuilder;

namespace
{

const std::vector<uint8_t> ECS = ednsOption(dns::EdnsOptionCode::CLIENT_SUBNET, {0, 1, 24, 0, 192, 0, 2});
const std::vector<uint8_t> COOKIE = ednsOption(dns::EdnsOptionCode::COOKIE, {1, 2, 3, 4, 5, 6, 7, 8});
const std::vector<uint8_t> NSID = ednsOption(3, {});

std::vector<uint8_t> makeQuery(uint16_t flags, bool dnssecOk, const std::vector<uint8_t>& options,
							   const std::string& name = "www.example.com")
{
	return PacketBuilder()
		.header(0x4242, flags, 1, 0, 0, 1)
		.question(name, dns::Type::A)
		.opt(1232, dnssecOk, options)
		.data();
}

dns::MessageInfo parsedQuery(const std::vector<uint8_t>& query)
{
	dns::MessageInfo info;
	CPPUNIT_ASSERT_EQUAL(dns::ParseError::NONE, dns::parseMessage(query.data(), query.size(), info));
	return info;
}

std::vector<uint8_t> prepared(std::vector<uint8_t> query, bool keepalive, bool padding)
{
	const dns::MessageInfo info = parsedQuery(query);
	auto out = upstream::prepareUpstreamQuery(std::move(query), info, keepalive, padding);
	CPPUNIT_ASSERT(out.has_value());
	return *out;
}

} // namespace

class UpstreamQueryTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(UpstreamQueryTest);
	CPPUNIT_TEST(testPrepareAsksForRecursion);
	CPPUNIT_TEST(testPrepareDropsClientSubnetAndCookie);
	CPPUNIT_TEST(testPrepareKeepsDoCdAndOtherOptions);
	CPPUNIT_TEST(testPrepareAddsKeepaliveAndPadsInOneGo);
	CPPUNIT_TEST(testPrepareRefusesQueryWhoseClientSubnetCannotBeRemoved);
	CPPUNIT_TEST_SUITE_END();

public:
	void testPrepareAsksForRecursion()
	{
		const auto out = prepared(makeQuery(0x0000, false, {}), false, false);
		CPPUNIT_ASSERT(parsedQuery(out).header.rd());
		CPPUNIT_ASSERT(parsedQuery(prepared(makeQuery(0x0000, false, ECS), true, true)).header.rd());
	}

	void testPrepareDropsClientSubnetAndCookie()
	{
		for (const bool keepalive : {false, true})
		{
			const auto out = prepared(makeQuery(0x0100, false, ECS), keepalive, false);
			CPPUNIT_ASSERT(!dns::hasOption(out.data(), parsedQuery(out).edns, dns::clientPrivateOptions()));
			const auto out2 = prepared(makeQuery(0x0100, false, COOKIE), keepalive, false);
			CPPUNIT_ASSERT(!dns::hasOption(out2.data(), parsedQuery(out2).edns, dns::clientPrivateOptions()));
		}
	}

	void testPrepareKeepsDoCdAndOtherOptions()
	{
		std::vector<uint8_t> options = NSID;
		options.insert(options.end(), ECS.begin(), ECS.end());
		const auto out = prepared(makeQuery(0x0100 | dns::Header::CD, true, options), false, false);
		const auto info = parsedQuery(out);
		CPPUNIT_ASSERT(info.edns.dnssecOk);
		CPPUNIT_ASSERT(info.header.cd());
		CPPUNIT_ASSERT(dns::hasOption(out.data(), info.edns, {3}));
		CPPUNIT_ASSERT_EQUAL(uint16_t(1232), info.edns.udpPayloadSize);
	}

	void testPrepareAddsKeepaliveAndPadsInOneGo()
	{
		const auto out = prepared(makeQuery(0x0000, false, ECS), true, true);
		const auto info = parsedQuery(out);
		CPPUNIT_ASSERT_EQUAL(size_t(0), out.size() % 128);
		CPPUNIT_ASSERT(info.edns.hasKeepalive);
		CPPUNIT_ASSERT(info.edns.hasPadding);
		CPPUNIT_ASSERT(!dns::hasOption(out.data(), info.edns, dns::clientPrivateOptions()));
		// Header (but RD) and question stay in place: answers are checked against the first parse.
		const auto original = makeQuery(0x0000, false, ECS);
		const auto before = parsedQuery(original);
		CPPUNIT_ASSERT_EQUAL(before.questionEnd, info.questionEnd);
		CPPUNIT_ASSERT(std::equal(original.begin() + 12, original.begin() + static_cast<long>(before.questionEnd),
								  out.begin() + 12));
	}

	void testPrepareRefusesQueryWhoseClientSubnetCannotBeRemoved()
	{
		// As in EdnsTest::testRefusesWhenKeptNameReadsIntoOpt: the second record's owner (a
		// pointer to the TXT rdata byte 0x0f at 41) reads on into the OPT at 54, so the OPT
		// cannot be rewritten. With ECS in it the query must not go at all; without, as it is.
		for (const bool ecs : {true, false})
		{
			PacketBuilder b;
			b.header(1, 0x0000, 1, 1, 0, 2).question("example.com", dns::Type::A);
			b.pointer(12).rrFixed(dns::Type::TXT, dns::Class::IN, 60, 1).u8(0x0F);
			b.pointer(41).rrFixed(10, dns::Class::IN, 60, 0);
			CPPUNIT_ASSERT_EQUAL(size_t(54), b.size());
			b.opt(1232, false, ecs ? ECS : NSID);
			std::vector<uint8_t> query = b.data();
			const dns::MessageInfo info = parsedQuery(query);
			const auto out = upstream::prepareUpstreamQuery(std::move(query), info, true, true);
			CPPUNIT_ASSERT_EQUAL(!ecs, out.has_value());
			if (out)
				CPPUNIT_ASSERT(parsedQuery(*out).header.rd());
		}
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(UpstreamQueryTest, "upstream");
