// TtlWalkerTest.cpp - tests of TTL visiting, ageing, clamping and RFC 2308 negative TTLs.
#include "dns/TtlWalker.h"
#include "dns/Constants.h"
#include "support/DnsTestTraits.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <tuple>

using namespace dnsproxy::dns;
using dnsproxy::test::loadHexCapture;
using dnsproxy::test::PacketBuilder;

namespace
{

uint32_t ttlAt(const std::vector<uint8_t>& msg, size_t offset)
{
	return readU32(msg.data() + offset);
}

std::vector<uint8_t> soaRdata(uint32_t minimum)
{
	PacketBuilder b;
	b.pointer(12).name("hostmaster", false).pointer(12).u32(2024010101).u32(7200).u32(3600).u32(1209600).u32(minimum);
	return b.data();
}

/// NXDOMAIN for nosuch.example.com with one SOA (owner pointer to example.com) in authority.
std::vector<uint8_t> nxdomain(uint32_t soaTtl, uint32_t minimum)
{
	PacketBuilder b;
	b.header(5, 0x8183, 1, 0, 1, 0).name("example.com").u16(Type::A).u16(Class::IN);
	b.pointer(12).rrFixed(Type::SOA, Class::IN, soaTtl, static_cast<uint16_t>(soaRdata(minimum).size()));
	b.bytes(soaRdata(minimum));
	return b.data();
}

} // namespace

class TtlWalkerTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TtlWalkerTest);
	CPPUNIT_TEST(testVisitsEveryTtlButNotOpt);
	CPPUNIT_TEST(testVisitsNothingInQuery);
	CPPUNIT_TEST(testAgesTtlButNotOpt);
	CPPUNIT_TEST(testAgeingFloorsAtZero);
	CPPUNIT_TEST(testClampsTtlsToRange);
	CPPUNIT_TEST(testSetsAllTtlsForStaleAnswer);
	CPPUNIT_TEST(testMinimumTtlIgnoresOpt);
	CPPUNIT_TEST(testMinimumTtlIsNulloptWithoutRecords);
	CPPUNIT_TEST(testTreatsTtlWithTopBitSetAsZero);
	CPPUNIT_TEST(testNegativeTtlIsMinOfSoaTtlAndMinimum);
	CPPUNIT_TEST(testNegativeTtlFromCapturedNxdomain);
	CPPUNIT_TEST(testNegativeTtlIsNulloptWithoutSoa);
	CPPUNIT_TEST(testLeavesMalformedMessageUntouched);
	CPPUNIT_TEST(testRefusesRewriteThatBreaksNamePointingIntoTtl);
	CPPUNIT_TEST_SUITE_END();

public:
	void testVisitsEveryTtlButNotOpt()
	{
		const auto msg = loadHexCapture("example_ns_answer.hex");
		std::vector<std::tuple<size_t, uint16_t, uint32_t>> seen;
		CPPUNIT_ASSERT(forEachTtl(msg.data(), msg.size(), [&](size_t offset, uint16_t type, uint32_t ttl) {
			seen.emplace_back(offset, type, ttl);
		}));
		CPPUNIT_ASSERT_EQUAL(size_t(2), seen.size());
		CPPUNIT_ASSERT_EQUAL(size_t(35), std::get<0>(seen[0]));
		CPPUNIT_ASSERT_EQUAL(Type::NS, std::get<1>(seen[0]));
		CPPUNIT_ASSERT_EQUAL(uint32_t(86400), std::get<2>(seen[0]));
		CPPUNIT_ASSERT_EQUAL(size_t(53), std::get<0>(seen[1]));
	}

	void testVisitsNothingInQuery()
	{
		const auto msg = loadHexCapture("dig_example_a_dnssec_query.hex");
		int calls = 0;
		CPPUNIT_ASSERT(forEachTtl(msg.data(), msg.size(), [&](size_t, uint16_t, uint32_t) { ++calls; }));
		CPPUNIT_ASSERT_EQUAL(0, calls);
	}

	void testAgesTtlButNotOpt()
	{
		// NODATA with DO=1: the OPT "TTL" field is 0x00008000 and must survive.
		auto msg = loadHexCapture("nodata_soa_dnssec_answer.hex");
		const size_t optTtl = msg.size() - 6;
		CPPUNIT_ASSERT_EQUAL(uint32_t(0x8000), ttlAt(msg, optTtl));
		CPPUNIT_ASSERT(ageTtls(msg.data(), msg.size(), 100));
		CPPUNIT_ASSERT_EQUAL(uint32_t(200), ttlAt(msg, 35));
		CPPUNIT_ASSERT_EQUAL(uint32_t(0x8000), ttlAt(msg, optTtl));
	}

	void testAgeingFloorsAtZero()
	{
		auto msg = loadHexCapture("example_a_dnssec_answer.hex");
		CPPUNIT_ASSERT(ageTtls(msg.data(), msg.size(), 301));
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(0), minimumTtl(msg.data(), msg.size()));
	}

	void testClampsTtlsToRange()
	{
		auto ns = loadHexCapture("example_ns_answer.hex");
		CPPUNIT_ASSERT(clampTtls(ns.data(), ns.size(), 0, 3600));
		CPPUNIT_ASSERT_EQUAL(uint32_t(3600), ttlAt(ns, 35));
		CPPUNIT_ASSERT_EQUAL(uint32_t(3600), ttlAt(ns, 53));
		auto a = loadHexCapture("example_a_dnssec_answer.hex");
		CPPUNIT_ASSERT(clampTtls(a.data(), a.size(), 600, 86400));
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(600), minimumTtl(a.data(), a.size()));
	}

	void testSetsAllTtlsForStaleAnswer()
	{
		auto msg = loadHexCapture("example_ns_answer.hex");
		CPPUNIT_ASSERT(setAllTtls(msg.data(), msg.size(), 30));
		CPPUNIT_ASSERT_EQUAL(uint32_t(30), ttlAt(msg, 35));
		CPPUNIT_ASSERT_EQUAL(uint32_t(30), ttlAt(msg, 53));
		CPPUNIT_ASSERT_EQUAL(uint32_t(0), ttlAt(msg, msg.size() - 6)); // OPT flags untouched
	}

	void testMinimumTtlIgnoresOpt()
	{
		PacketBuilder b;
		b.header(1, 0x8180, 1, 2, 0, 1).question("example.com", Type::A);
		b.pointer(12).rrFixed(Type::A, Class::IN, 300, 4).bytes({192, 0, 2, 1});
		b.pointer(12).rrFixed(Type::A, Class::IN, 60, 4).bytes({192, 0, 2, 2});
		b.opt(1232, false); // TTL field 0 would win if it were counted
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(60), minimumTtl(b.data().data(), b.size()));
	}

	void testMinimumTtlIsNulloptWithoutRecords()
	{
		const auto msg = loadHexCapture("dig_example_a_dnssec_query.hex");
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(), minimumTtl(msg.data(), msg.size()));
	}

	void testTreatsTtlWithTopBitSetAsZero()
	{
		// RFC 2181 8: a TTL with the most significant bit set is treated as zero.
		PacketBuilder b;
		b.header(1, 0x8180, 1, 1, 0, 0).question("example.com", Type::A);
		b.pointer(12).rrFixed(Type::A, Class::IN, 0x80000010u, 4).bytes({192, 0, 2, 1});
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(0), minimumTtl(b.data().data(), b.size()));
	}

	void testNegativeTtlIsMinOfSoaTtlAndMinimum()
	{
		const auto longTtl = nxdomain(3600, 900);
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(900), negativeTtl(longTtl.data(), longTtl.size()));
		const auto shortTtl = nxdomain(60, 900);
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(60), negativeTtl(shortTtl.data(), shortTtl.size()));
	}

	void testNegativeTtlFromCapturedNxdomain()
	{
		const auto msg = loadHexCapture("nxdomain_soa_answer.hex");
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(300), negativeTtl(msg.data(), msg.size()));
	}

	void testNegativeTtlIsNulloptWithoutSoa()
	{
		const auto msg = loadHexCapture("example_a_dnssec_answer.hex");
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(), negativeTtl(msg.data(), msg.size()));
	}

	void testLeavesMalformedMessageUntouched()
	{
		auto msg = loadHexCapture("example_ns_answer.hex");
		msg.pop_back(); // the OPT's last byte: first NS RR is fine, the message is not
		const auto before = msg;
		CPPUNIT_ASSERT(!ageTtls(msg.data(), msg.size(), 10));
		CPPUNIT_ASSERT(!clampTtls(msg.data(), msg.size(), 0, 1));
		CPPUNIT_ASSERT(!setAllTtls(msg.data(), msg.size(), 1));
		CPPUNIT_ASSERT_EQUAL(before, msg);
		int calls = 0;
		CPPUNIT_ASSERT(!forEachTtl(msg.data(), msg.size(), [&](size_t, uint16_t, uint32_t) { ++calls; }));
		CPPUNIT_ASSERT_EQUAL(0, calls);
		CPPUNIT_ASSERT_EQUAL(std::optional<uint32_t>(), minimumTtl(msg.data(), msg.size()));
	}

	void testRefusesRewriteThatBreaksNamePointingIntoTtl()
	{
		// Found by fuzz_ttl_walk: the second owner points at the last byte of the first TTL
		// (0x00, the root). Writing 0x40 there would turn it into a bad label type.
		PacketBuilder b;
		b.header(1, 0x8180, 1, 2, 0, 0).question("example.com", Type::A);
		b.pointer(12).rrFixed(Type::A, Class::IN, 0, 4).bytes({192, 0, 2, 1}); // TTL at 35..38
		b.pointer(38).rrFixed(Type::A, Class::IN, 0, 4).bytes({192, 0, 2, 2});
		auto msg = b.data();
		const auto before = msg;
		CPPUNIT_ASSERT(!setAllTtls(msg.data(), msg.size(), 0x40));
		CPPUNIT_ASSERT_EQUAL(before, msg);
		CPPUNIT_ASSERT(setAllTtls(msg.data(), msg.size(), 0x100)); // low byte stays 0: still the root
		CPPUNIT_ASSERT_EQUAL(uint32_t(0x100), ttlAt(msg, 35));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TtlWalkerTest, "dns");
