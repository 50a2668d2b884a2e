// JsonViewTest.cpp - unit tests of JsonView: /stats layout and values, pins grouped by name, cache entries.
#include "admin/JsonView.h"

#include "support/AdminTestData.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

using dnsproxy::admin::JsonView;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace
{

/// Through text and back, as a client sees it.
Object::Ptr roundTrip(const Object::Ptr& object)
{
	Poco::JSON::Parser parser;
	return parser.parse(JsonView::toString(object)).extract<Object::Ptr>();
}

/// The /stats object of sampleSnapshot(), which most tests read.
Object::Ptr sampleStats()
{
	return roundTrip(JsonView::stats(dnsproxy::test::sampleSnapshot()));
}

uint64_t u64(const Object::Ptr& o, const std::string& key)
{
	return o->getValue<uint64_t>(key);
}

/// Fails naming the first key of `expected` whose count in `o` differs.
void assertCounts(const Object::Ptr& o, std::initializer_list<std::pair<const char*, uint64_t>> expected)
{
	for (const auto& [key, value] : expected)
		CPPUNIT_ASSERT_EQUAL_MESSAGE(key, value, u64(o, key));
}

} // namespace

class JsonViewTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(JsonViewTest);
	CPPUNIT_TEST(testQueriesByTransportWithTotal);
	CPPUNIT_TEST(testAnswersByRcodeNameIncludingZeroMainOnes);
	CPPUNIT_TEST(testCacheFiguresAndHitRatio);
	CPPUNIT_TEST(testUpstreamsWithLatencyPercentiles);
	CPPUNIT_TEST(testClientsAndPins);
	CPPUNIT_TEST(testKeepsKeyOrder);
	CPPUNIT_TEST(testGroupsPinsByName);
	CPPUNIT_TEST(testCacheEntriesWithMnemonicsAndStaleFlag);
	CPPUNIT_TEST(testErrorObject);
	CPPUNIT_TEST_SUITE_END();

public:
	void testQueriesByTransportWithTotal()
	{
		Object::Ptr q = sampleStats()->getObject("queries");
		assertCounts(q, {{"udp", 70}, {"tcp", 30}, {"total", 100}});
	}

	void testAnswersByRcodeNameIncludingZeroMainOnes()
	{
		Object::Ptr a = sampleStats()->getObject("answers");
		assertCounts(a, {{"NOERROR", 80},
						 {"SERVFAIL", 5},
						 {"NXDOMAIN", 15},
						 {"REFUSED", 0},
						 {"FORMERR", 0},
						 {"NOTIMP", 0},
						 {"NOTAUTH", 1}});
		CPPUNIT_ASSERT(!a->has("NOTZONE"));
	}

	void testCacheFiguresAndHitRatio()
	{
		Object::Ptr c = sampleStats()->getObject("cache");
		CPPUNIT_ASSERT(c->getValue<bool>("enabled"));
		assertCounts(
			c,
			{{"entries", 42}, {"hits", 60}, {"misses", 40}, {"stale_served", 2}, {"prefetches", 6}, {"persisted", 7}});
		CPPUNIT_ASSERT_DOUBLES_EQUAL(0.6, c->getValue<double>("hit_ratio"), 1e-9);
	}

	void testUpstreamsWithLatencyPercentiles()
	{
		Array::Ptr ups = sampleStats()->getArray("upstreams");
		CPPUNIT_ASSERT_EQUAL(size_t(2), ups->size());
		Object::Ptr a = ups->getObject(0);
		CPPUNIT_ASSERT_EQUAL(std::string("1.1.1.1:853"), a->getValue<std::string>("address"));
		CPPUNIT_ASSERT_EQUAL(std::string("cloudflare-dns.com"), a->getValue<std::string>("name"));
		CPPUNIT_ASSERT_EQUAL(std::string("up"), a->getValue<std::string>("state"));
		assertCounts(
			a, {{"connections_opened", 2}, {"tls_resumptions", 1}, {"queries", 40}, {"failures", 1}, {"timeouts", 3}});
		Object::Ptr latency = a->getObject("latency_ms");
		CPPUNIT_ASSERT_DOUBLES_EQUAL(1.5, latency->getValue<double>("p50"), 1e-9);
		CPPUNIT_ASSERT_DOUBLES_EQUAL(4.25, latency->getValue<double>("p95"), 1e-9);
		CPPUNIT_ASSERT_DOUBLES_EQUAL(9.0, latency->getValue<double>("p99"), 1e-9);
		CPPUNIT_ASSERT_EQUAL(uint64_t(36), u64(latency, "count"));
		CPPUNIT_ASSERT_EQUAL(std::string("down"), ups->getObject(1)->getValue<std::string>("state"));
	}

	void testClientsAndPins()
	{
		Object::Ptr root = sampleStats();
		CPPUNIT_ASSERT_EQUAL(uint64_t(3), u64(root->getObject("clients"), "tcp_connections"));
		CPPUNIT_ASSERT_EQUAL(uint64_t(4), u64(root->getObject("clients"), "refused"));
		CPPUNIT_ASSERT_EQUAL(uint64_t(8), u64(root->getObject("pins"), "changes_seen"));
		CPPUNIT_ASSERT_EQUAL(uint64_t(9), u64(root->getObject("pins"), "refusals"));
		CPPUNIT_ASSERT_DOUBLES_EQUAL(12.5, root->getValue<double>("uptime_seconds"), 1e-9);
	}

	void testKeepsKeyOrder()
	{
		const std::string text = JsonView::toString(JsonView::stats(dnsproxy::test::sampleSnapshot()));
		CPPUNIT_ASSERT(text.find("\"uptime_seconds\"") < text.find("\"queries\""));
		CPPUNIT_ASSERT(text.find("\"queries\"") < text.find("\"answers\""));
		CPPUNIT_ASSERT(text.find("\"answers\"") < text.find("\"cache\""));
		CPPUNIT_ASSERT(text.find("\"cache\"") < text.find("\"upstreams\""));
	}

	void testGroupsPinsByName()
	{
		std::vector<dnsproxy::admin::PinRecord> records{
			{"a.example", "AAAA", "config", 0, 0, 0, 0},
			{"b.example", "BBBB", "learned", 1714564800, 1714564900, 3, 0},
			{"a.example", "CCCC", "approved", 0, 0, 0, 0},
		};
		Array::Ptr pins = roundTrip(JsonView::pins(records))->getArray("pins");
		CPPUNIT_ASSERT_EQUAL(size_t(2), pins->size());
		CPPUNIT_ASSERT_EQUAL(std::string("a.example"), pins->getObject(0)->getValue<std::string>("name"));
		CPPUNIT_ASSERT_EQUAL(size_t(2), pins->getObject(0)->getArray("digests")->size());
		Object::Ptr learned = pins->getObject(1)->getArray("digests")->getObject(0);
		CPPUNIT_ASSERT_EQUAL(std::string("learned"), learned->getValue<std::string>("source"));
		CPPUNIT_ASSERT_EQUAL(std::string("2024-05-01T12:00:00Z"), learned->getValue<std::string>("first_seen"));
		CPPUNIT_ASSERT_EQUAL(uint64_t(3), u64(learned, "count"));
	}

	void testCacheEntriesWithMnemonicsAndStaleFlag()
	{
		dnsproxy::cache::CacheEntryView fresh;
		fresh.name = "a.example.";
		fresh.type = 28;
		fresh.ttlRemaining = 250;
		dnsproxy::cache::CacheEntryView stale;
		stale.name = "a.example.";
		stale.type = 65280;
		stale.rcode = 3;
		stale.ttlRemaining = -5;
		Object::Ptr root = roundTrip(JsonView::cacheEntries("a.example.", {fresh, stale}));
		Array::Ptr entries = root->getArray("entries");
		CPPUNIT_ASSERT_EQUAL(std::string("AAAA"), entries->getObject(0)->getValue<std::string>("type"));
		CPPUNIT_ASSERT_EQUAL(std::string("IN"), entries->getObject(0)->getValue<std::string>("class"));
		CPPUNIT_ASSERT_EQUAL(int64_t(250), entries->getObject(0)->getValue<int64_t>("ttl_remaining"));
		CPPUNIT_ASSERT(!entries->getObject(0)->getValue<bool>("stale"));
		CPPUNIT_ASSERT_EQUAL(std::string("TYPE65280"), entries->getObject(1)->getValue<std::string>("type"));
		CPPUNIT_ASSERT_EQUAL(std::string("NXDOMAIN"), entries->getObject(1)->getValue<std::string>("rcode"));
		CPPUNIT_ASSERT(entries->getObject(1)->getValue<bool>("stale"));
	}

	void testErrorObject()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("{\n  \"error\": \"nope\"\n}\n"), JsonView::toString(JsonView::error("nope")));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(JsonViewTest, "admin");
