// HeaderTest.cpp - tests of dns::Header parsing, flag accessors and ID helpers against captured packets.
#include "dns/Header.h"
#include "support/DnsTestTraits.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy::dns;
using dnsproxy::test::loadHexCapture;

class HeaderTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(HeaderTest);
	CPPUNIT_TEST(testParsesCapturedQueryHeader);
	CPPUNIT_TEST(testParsesCapturedResponseFlags);
	CPPUNIT_TEST(testRejectsHeaderShorterThan12Bytes);
	CPPUNIT_TEST(testWriteRoundTripsEveryField);
	CPPUNIT_TEST(testSettersChangeOnlyTheirBits);
	CPPUNIT_TEST(testRcodeSetterKeepsLowFourBits);
	CPPUNIT_TEST(testReadsAndWritesIdBigEndian);
	CPPUNIT_TEST(testReadsRcodeWithoutParsing);
	CPPUNIT_TEST(testWritesArcountInPlace);
	CPPUNIT_TEST_SUITE_END();

public:
	void testParsesCapturedQueryHeader()
	{
		const auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		const auto header = Header::parse(query.data(), query.size());
		CPPUNIT_ASSERT(header.has_value());
		CPPUNIT_ASSERT_EQUAL(uint16_t(0xd59a), header->id);
		CPPUNIT_ASSERT(!header->qr());
		CPPUNIT_ASSERT_EQUAL(uint8_t(0), header->opcode());
		CPPUNIT_ASSERT(header->rd());
		CPPUNIT_ASSERT(header->ad());
		CPPUNIT_ASSERT(!header->cd());
		CPPUNIT_ASSERT(!header->tc());
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), header->qdcount);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), header->ancount);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), header->nscount);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), header->arcount);
	}

	void testParsesCapturedResponseFlags()
	{
		const auto answer = loadHexCapture("nxdomain_soa_answer.hex");
		const auto header = Header::parse(answer.data(), answer.size());
		CPPUNIT_ASSERT(header.has_value());
		CPPUNIT_ASSERT(header->qr());
		CPPUNIT_ASSERT(header->aa());
		CPPUNIT_ASSERT(header->rd());
		CPPUNIT_ASSERT(header->ra());
		CPPUNIT_ASSERT(!header->ad());
		CPPUNIT_ASSERT_EQUAL(Rcode::NXDOMAIN, header->rcode());
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), header->nscount);
	}

	void testRejectsHeaderShorterThan12Bytes()
	{
		const auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		for (size_t len = 0; len < HEADER_SIZE; ++len)
			CPPUNIT_ASSERT(!Header::parse(query.data(), len).has_value());
		CPPUNIT_ASSERT(Header::parse(query.data(), HEADER_SIZE).has_value());
	}

	void testWriteRoundTripsEveryField()
	{
		const Header header{0xBEEF, 0x8583, 1, 0x0203, 0x0405, 0x0607}; // in wire order
		uint8_t wire[HEADER_SIZE];
		header.write(wire);
		const std::vector<uint8_t> expected = {0xBE, 0xEF, 0x85, 0x83, 0, 1, 2, 3, 4, 5, 6, 7};
		CPPUNIT_ASSERT_EQUAL(expected, std::vector<uint8_t>(wire, wire + HEADER_SIZE));
		const auto parsed = Header::parse(wire, sizeof wire);
		CPPUNIT_ASSERT_EQUAL(header.flags, parsed->flags);
		CPPUNIT_ASSERT_EQUAL(header.arcount, parsed->arcount);
	}

	void testSettersChangeOnlyTheirBits()
	{
		Header header;
		header.flags = 0x0130; // RD, AD, CD
		header.setQr(true);
		header.setTc(true);
		header.setRa(true);
		header.setAa(true);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x87B0), header.flags);
		header.setTc(false);
		header.setAa(false);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x81B0), header.flags);
		CPPUNIT_ASSERT(header.rd() && header.ad() && header.cd());
	}

	void testRcodeSetterKeepsLowFourBits()
	{
		Header header;
		header.flags = 0x8180;
		header.setRcode(0x13);
		CPPUNIT_ASSERT_EQUAL(uint8_t(3), header.rcode());
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x8183), header.flags);
		header.setRcode(Rcode::NOERROR);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x8180), header.flags);
	}

	void testReadsAndWritesIdBigEndian()
	{
		auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		CPPUNIT_ASSERT_EQUAL(uint16_t(0xd59a), readId(query.data()));
		writeId(query.data(), 0x1234);
		CPPUNIT_ASSERT_EQUAL(uint8_t(0x12), query[0]);
		CPPUNIT_ASSERT_EQUAL(uint8_t(0x34), query[1]);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x1234), readId(query.data()));
	}

	void testReadsRcodeWithoutParsing()
	{
		auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		Header header = *Header::parse(query.data(), query.size());
		header.setRcode(Rcode::NXDOMAIN);
		header.setQr(true);
		header.write(query.data());
		CPPUNIT_ASSERT_EQUAL(Rcode::NXDOMAIN, readRcode(query.data()));
		header.setRcode(Rcode::SERVFAIL);
		header.write(query.data());
		CPPUNIT_ASSERT_EQUAL(Rcode::SERVFAIL, readRcode(query.data()));
	}

	void testWritesArcountInPlace()
	{
		auto query = loadHexCapture("dig_example_a_dnssec_query.hex");
		writeArcount(query.data(), 0x0102);
		const auto header = Header::parse(query.data(), query.size());
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x0102), header->arcount);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), header->qdcount);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0xd59a), header->id);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(HeaderTest, "dns");
CPPUNIT_REGISTRY_ADD("dns", "unit");
