// FlightCoalescerTest.cpp - the "same question" key shared with the cache, and one answer fanned out per ID.
#include "upstream/FlightCoalescer.h"

#include "cache/CacheKey.h"
#include "dns/Edns.h"
#include "dns/Header.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

using namespace dnsproxy;
using dnsproxy::test::ednsOption;
using dnsproxy::test::PacketBuilder;
using upstream::FlightCoalescer;
using upstream::UpstreamResult;

namespace
{

const std::vector<uint8_t> ECS = ednsOption(dns::EdnsOptionCode::CLIENT_SUBNET, {0, 1, 24, 0, 192, 0, 2});

std::vector<uint8_t> makeQuery(uint16_t id, uint16_t flags, bool dnssecOk, const std::vector<uint8_t>& options,
							   const std::string& name = "www.example.com")
{
	return PacketBuilder()
		.header(id, flags, 1, 0, 0, 1)
		.question(name, dns::Type::A)
		.opt(1232, dnssecOk, options)
		.data();
}

std::vector<uint8_t> makePlainQuery(uint16_t id, const std::string& name = "www.example.com")
{
	return PacketBuilder().header(id, 0x0100, 1, 0, 0, 0).question(name, dns::Type::A).data();
}

dns::MessageInfo parsed(const std::vector<uint8_t>& query)
{
	dns::MessageInfo info;
	CPPUNIT_ASSERT_EQUAL(dns::ParseError::NONE, dns::parseMessage(query.data(), query.size(), info));
	return info;
}

std::string keyOf(const std::vector<uint8_t>& query)
{
	return FlightCoalescer::key(query, parsed(query));
}

struct Received
{
	std::vector<UpstreamResult> results;
	FlightCoalescer::Callback callback()
	{
		return [this](UpstreamResult&& result) { results.push_back(std::move(result)); };
	}
};

} // namespace

class FlightCoalescerTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(FlightCoalescerTest);
	CPPUNIT_TEST(testKeyIsTheCacheKey);
	CPPUNIT_TEST(testKeyIgnoresRdCaseEdnsAndClientSubnet);
	CPPUNIT_TEST(testKeySeparatesDoCdTypeAndName);
	CPPUNIT_TEST(testFirstJoinSendsLaterJoinsWait);
	CPPUNIT_TEST(testLandGivesEveryWaiterItsOwnId);
	CPPUNIT_TEST(testFailureReachesEveryWaiterAndFlightEnds);
	CPPUNIT_TEST(testDifferentKeysFlySeparately);
	CPPUNIT_TEST_SUITE_END();

public:
	void testKeyIsTheCacheKey()
	{
		const auto query = makeQuery(1, 0x0100 | dns::Header::CD, true, {}, "Www.Example.COM");
		std::string cacheKey;
		CPPUNIT_ASSERT(cache::CacheKey::fromQuery(query.data(), parsed(query), cacheKey));
		CPPUNIT_ASSERT(cacheKey == keyOf(query));
	}

	void testKeyIgnoresRdCaseEdnsAndClientSubnet()
	{
		const std::string key = keyOf(makeQuery(1, 0x0000, false, {}));
		CPPUNIT_ASSERT(!key.empty());
		CPPUNIT_ASSERT(key == keyOf(makeQuery(2, 0x0100, false, ECS, "WWW.example.com")));
		// Whether the client used EDNS does not matter: the answer is shaped per client afterwards,
		// exactly as a cache hit is.
		CPPUNIT_ASSERT(key == keyOf(makePlainQuery(3)));
	}

	void testKeySeparatesDoCdTypeAndName()
	{
		const std::string key = keyOf(makeQuery(1, 0x0100, false, {}));
		CPPUNIT_ASSERT(key != keyOf(makeQuery(1, 0x0100, true, {})));
		CPPUNIT_ASSERT(key != keyOf(makeQuery(1, 0x0100 | dns::Header::CD, false, {})));
		CPPUNIT_ASSERT(key != keyOf(makeQuery(1, 0x0100, false, {}, "www.example.net")));
		const auto aaaa = PacketBuilder()
							  .header(1, 0x0100, 1, 0, 0, 1)
							  .question("www.example.com", dns::Type::AAAA)
							  .opt(1232, false, {})
							  .data();
		CPPUNIT_ASSERT(key != keyOf(aaaa));
	}

	void testFirstJoinSendsLaterJoinsWait()
	{
		FlightCoalescer flights;
		Received a, b;
		CPPUNIT_ASSERT(flights.join("k", 1, a.callback()));
		CPPUNIT_ASSERT(!flights.join("k", 2, b.callback()));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), flights.coalesced());
		CPPUNIT_ASSERT(a.results.empty() && b.results.empty());
	}

	void testLandGivesEveryWaiterItsOwnId()
	{
		FlightCoalescer flights;
		Received a, b, c;
		flights.join("k", 0x1111, a.callback());
		flights.join("k", 0x2222, b.callback());
		flights.join("k", 0x3333, c.callback());
		std::vector<uint8_t> answer = makePlainQuery(0x9999);
		answer[2] |= static_cast<uint8_t>(dns::Header::QR >> 8);
		flights.land("k", UpstreamResult{UpstreamResult::Status::OK, answer});
		const std::vector<std::pair<Received*, uint16_t>> expected{{&a, 0x1111}, {&b, 0x2222}, {&c, 0x3333}};
		for (const auto& [received, id] : expected)
		{
			CPPUNIT_ASSERT_EQUAL(size_t(1), received->results.size());
			CPPUNIT_ASSERT(received->results[0].status == UpstreamResult::Status::OK);
			CPPUNIT_ASSERT_EQUAL(id, dns::readId(received->results[0].answer.data()));
			CPPUNIT_ASSERT(std::equal(answer.begin() + 2, answer.end(), received->results[0].answer.begin() + 2));
		}
	}

	void testFailureReachesEveryWaiterAndFlightEnds()
	{
		FlightCoalescer flights;
		Received a, b, later;
		flights.join("k", 1, a.callback());
		flights.join("k", 2, b.callback());
		flights.land("k", UpstreamResult{UpstreamResult::Status::TIMEOUT, {}});
		CPPUNIT_ASSERT(a.results.at(0).status == UpstreamResult::Status::TIMEOUT);
		CPPUNIT_ASSERT(b.results.at(0).status == UpstreamResult::Status::TIMEOUT);
		// The flight is over: the next query for the same question goes upstream again.
		CPPUNIT_ASSERT(flights.join("k", 3, later.callback()));
		flights.land("other", UpstreamResult{}); // no such flight: nothing happens
		CPPUNIT_ASSERT(later.results.empty());
	}

	void testDifferentKeysFlySeparately()
	{
		FlightCoalescer flights;
		Received a, b;
		CPPUNIT_ASSERT(flights.join("k1", 1, a.callback()));
		CPPUNIT_ASSERT(flights.join("k2", 2, b.callback()));
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), flights.coalesced());
		flights.land("k1", UpstreamResult{UpstreamResult::Status::FAILED, {}});
		CPPUNIT_ASSERT_EQUAL(size_t(1), a.results.size());
		CPPUNIT_ASSERT(b.results.empty());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(FlightCoalescerTest, "upstream");
