// SecondLevelPipelineTest.cpp - QueryPipeline's second-level cache hook (fleet L2, SPEC 4b) with fakes.
#include "pipeline/QueryPipeline.h"

#include "cache/PacketCache.h"
#include "dns/Header.h"
#include "support/CachePackets.h"
#include "support/CapturingResponder.h"
#include "support/FakeUpstream.h"
#include "support/TestAcl.h"

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <memory>

using namespace dnsproxy;
using namespace dnsproxy::test::cachepackets;

namespace
{

/// An in-memory second level that calls back at once.
class MapSecondLevel: public pipeline::SecondLevelCache
{
public:
	void lookup(const std::string& key, Callback done) override
	{
		++lookups;
		auto it = entries.find(key);
		done(it == entries.end() ? std::nullopt : std::optional<std::vector<uint8_t>>(it->second));
	}
	void store(const std::string& key, const uint8_t* answer, size_t len) override
	{
		++stores;
		entries[key].assign(answer, answer + len);
	}
	std::map<std::string, std::vector<uint8_t>> entries;
	int lookups = 0;
	int stores = 0;
};

} // namespace

class SecondLevelPipelineTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SecondLevelPipelineTest);
	CPPUNIT_TEST(testUpstreamAnswerIsStoredInSecondLevel);
	CPPUNIT_TEST(testSecondLevelHitSkipsUpstreamAndFillsLocalCache);
	CPPUNIT_TEST(testSecondLevelAnswerForAnotherQuestionIsIgnored);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_acl = test::allowLoopback();
		_cache = std::make_unique<cache::PacketCache>(cache::CacheSettings{}, [] { return int64_t(1000000); });
		_pipeline = std::make_unique<pipeline::QueryPipeline>(pipeline::PipelineSettings{}, _acl, _upstream, _stats,
															  _cache.get());
		_pipeline->setSecondLevelCache(&_secondLevel);
	}

	void tearDown() override
	{
		_pipeline.reset();
	}

	void testUpstreamAnswerIsStoredInSecondLevel()
	{
		auto answer = ask(query("www.example.com", dns::Type::A, false, false, 0x1111));
		CPPUNIT_ASSERT_EQUAL(1, _secondLevel.lookups);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _upstream.count());
		CPPUNIT_ASSERT_EQUAL(1, _secondLevel.stores);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _secondLevel.entries.count(keyFor("www.example.com", dns::Type::A)));
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x1111), dns::readId(answer.data()));
	}

	void testSecondLevelHitSkipsUpstreamAndFillsLocalCache()
	{
		// Another proxy stored it 100 s ago: the tier hands back TTL 200.
		_secondLevel.entries[keyFor("www.example.com", dns::Type::A)] = answerA("www.example.com", {200}, 0);
		auto answer = ask(query("WWW.example.com", dns::Type::A, false, false, 0x2222));
		CPPUNIT_ASSERT_EQUAL(size_t(0), _upstream.count());
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x2222), dns::readId(answer.data()));
		CPPUNIT_ASSERT_EQUAL(uint32_t(200), ttls(answer)[0]);
		CPPUNIT_ASSERT_EQUAL(std::string("WWW"), std::string(answer.begin() + 13, answer.begin() + 16));
		CPPUNIT_ASSERT_EQUAL(0, _secondLevel.stores); // a hit is not written back
		// Now a local hit: neither the tier nor the upstream is asked again.
		ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(1, _secondLevel.lookups);
		CPPUNIT_ASSERT_EQUAL(size_t(0), _upstream.count());
	}

	void testSecondLevelAnswerForAnotherQuestionIsIgnored()
	{
		_secondLevel.entries[keyFor("www.example.com", dns::Type::A)] = answerA("other.example.com", {200}, 0);
		auto answer = ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _upstream.count());
		CPPUNIT_ASSERT_EQUAL(uint32_t(300), ttls(answer)[0]);
	}

private:
	std::vector<uint8_t> ask(const std::vector<uint8_t>& q)
	{
		auto responder = std::make_shared<test::CapturingResponder>();
		frontend::ClientInfo client{Poco::Net::SocketAddress("127.0.0.1", 5353), frontend::Transport::UDP};
		_pipeline->handleQuery(std::vector<uint8_t>(q), client, responder);
		CPPUNIT_ASSERT_EQUAL(size_t(1), responder->count());
		return responder->answer();
	}

	frontend::ClientAcl _acl{{}};
	/// Answers every query at once with an A record of TTL 300.
	test::FakeUpstream _upstream{[](const std::vector<uint8_t>&) { return answerA("www.example.com", {300}); }};
	MapSecondLevel _secondLevel;
	stats::FrontendStats _stats;
	std::unique_ptr<cache::PacketCache> _cache;
	std::unique_ptr<pipeline::QueryPipeline> _pipeline;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SecondLevelPipelineTest, "fleet");
