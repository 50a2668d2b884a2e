// SourceSharesTest.cpp - each source's share of max_pending: the table itself and QueryPipeline::forward() using it.
#include "pipeline/SourceShares.h"

#include "dns/Constants.h"
#include "pipeline/QueryPipeline.h"
#include "support/CachePackets.h"
#include "support/CapturingResponder.h"
#include "support/FakeUpstream.h"
#include "support/MessageFields.h"

#include <Poco/Net/SocketAddress.h>

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <set>
#include <string>

using namespace dnsproxy;
using dnsproxy::test::CapturingResponder;
using dnsproxy::test::FakeUpstream;

namespace
{

int slotOf(const pipeline::SourceShares& shares, const std::string& host)
{
	const Poco::Net::SocketAddress address(host, 5353);
	return shares.slotOf(address.addr());
}

} // namespace

class SourceSharesTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SourceSharesTest);
	CPPUNIT_TEST(testShareIsAQuarterOfMaxPending);
	CPPUNIT_TEST(testRefusesSourceOverItsShareUntilOneEnds);
	CPPUNIT_TEST(testIpv6SourceIsItsSlash64);
	CPPUNIT_TEST(testIpv4MappedAddressIsTheIpv4Source);
	CPPUNIT_TEST(testDistinctSourcesSpreadOverSlots);
	CPPUNIT_TEST(testPipelineRefusesOneSourceBeyondShareButTakesOthers);
	CPPUNIT_TEST_SUITE_END();

public:
	void testShareIsAQuarterOfMaxPending()
	{
		CPPUNIT_ASSERT_EQUAL(uint32_t(2500), pipeline::SourceShares(10000).share());
		CPPUNIT_ASSERT_EQUAL(uint32_t(10), pipeline::SourceShares(40).share());
		CPPUNIT_ASSERT_EQUAL(uint32_t(1), pipeline::SourceShares(3).share());
		CPPUNIT_ASSERT_EQUAL(uint32_t(1), pipeline::SourceShares(0).share());
	}

	void testRefusesSourceOverItsShareUntilOneEnds()
	{
		pipeline::SourceShares shares(40);
		const int slot = slotOf(shares, "192.0.2.7");
		for (int i = 0; i < 10; ++i)
			CPPUNIT_ASSERT(shares.acquire(slot));
		CPPUNIT_ASSERT(!shares.acquire(slot));
		CPPUNIT_ASSERT_EQUAL(uint32_t(10), shares.waiting(slot)); // a refusal counts nothing
		shares.release(slot);
		CPPUNIT_ASSERT(shares.acquire(slot));
		CPPUNIT_ASSERT(!shares.acquire(slot));
	}

	void testIpv6SourceIsItsSlash64()
	{
		pipeline::SourceShares shares(40);
		CPPUNIT_ASSERT_EQUAL(slotOf(shares, "2001:db8:1:2::1"), slotOf(shares, "2001:db8:1:2:ffff:1:2:3"));
		const int slot = slotOf(shares, "2001:db8:1:2::1");
		for (int i = 0; i < 10; ++i)
			CPPUNIT_ASSERT(shares.acquire(slotOf(shares, "2001:db8:1:2::" + std::to_string(i + 1))));
		CPPUNIT_ASSERT(!shares.acquire(slot));
	}

	void testIpv4MappedAddressIsTheIpv4Source()
	{
		pipeline::SourceShares shares(40);
		CPPUNIT_ASSERT_EQUAL(slotOf(shares, "192.0.2.7"), slotOf(shares, "::ffff:192.0.2.7"));
	}

	void testDistinctSourcesSpreadOverSlots()
	{
		// Collisions share a counter (documented). 400 sources in 4096 slots under a random key: about
		// 19.5 collide on average (n^2 / 2m), standard deviation about 4.3; 50 would be 7 sigma out.
		pipeline::SourceShares shares(40);
		std::set<int> slots;
		for (int i = 0; i < 200; ++i)
		{
			slots.insert(slotOf(shares, "10.0." + std::to_string(i / 100) + "." + std::to_string(i % 100)));
			slots.insert(slotOf(shares, "2001:db8:" + std::to_string(i) + "::1"));
		}
		CPPUNIT_ASSERT(slots.size() >= 350);
		CPPUNIT_ASSERT(*slots.begin() >= 0);
		CPPUNIT_ASSERT(*slots.rbegin() < int(pipeline::SourceShares::SLOTS));
	}

	void testPipelineRefusesOneSourceBeyondShareButTakesOthers()
	{
		frontend::ClientAcl::Network any;
		frontend::ClientAcl acl({any}); // 0.0.0.0/0
		FakeUpstream upstream;
		stats::FrontendStats stats;
		pipeline::PipelineSettings settings;
		settings.maxPending = 8; // share 2
		pipeline::QueryPipeline pipeline(settings, acl, upstream, stats);
		auto ask = [&](const std::string& host, int n) {
			auto responder = std::make_shared<CapturingResponder>();
			frontend::ClientInfo client{Poco::Net::SocketAddress(host, 5353), frontend::Transport::UDP};
			pipeline.handleQuery(test::cachepackets::query("q" + std::to_string(n) + ".example.com", dns::Type::A),
								 client, responder);
			return responder;
		};
		ask("192.0.2.1", 1);
		ask("192.0.2.1", 2);
		auto third = ask("192.0.2.1", 3);
		CPPUNIT_ASSERT_EQUAL(size_t(2), upstream.count());
		CPPUNIT_ASSERT_EQUAL(size_t(1), third->count());
		CPPUNIT_ASSERT_EQUAL(int(dns::Rcode::REFUSED), test::rcodeOf(third->answer()));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), stats.overLimit.load());
		// Other sources still get in (max_pending is 8); allow for one hash collision in four.
		size_t others = 0;
		for (int i = 0; i < 4; ++i)
			others += ask("198.51.100." + std::to_string(i + 1), 10 + i)->count() == 0 ? 1 : 0;
		CPPUNIT_ASSERT(others >= 3);
		CPPUNIT_ASSERT_EQUAL(size_t(2 + others), upstream.count());
		// One of the first source's queries ends: it may have one more waiting again.
		upstream.complete(0, upstream::UpstreamResult::Status::TIMEOUT);
		CPPUNIT_ASSERT_EQUAL(size_t(0), ask("192.0.2.1", 4)->count());
		CPPUNIT_ASSERT_EQUAL(size_t(3 + others), upstream.count());
		for (size_t i = 1; i < upstream.count(); ++i)
			upstream.complete(i, upstream::UpstreamResult::Status::TIMEOUT);
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), pipeline.pending());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SourceSharesTest, "pipeline");
