// CachingPipelineTest.cpp - QueryPipeline with a PacketCache and a fake upstream: hits, serve-stale, prefetch.
#include "pipeline/QueryPipeline.h"

#include "cache/PacketCache.h"
#include "dns/Constants.h"
#include "dns/Header.h"
#include "support/CachePackets.h"
#include "support/CapturingResponder.h"
#include "support/FakeUpstream.h"
#include "support/MessageFields.h"
#include "support/TestAcl.h"
#include "support/WaitFor.h"

#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <memory>

using namespace dnsproxy;
using namespace dnsproxy::test::cachepackets;
using namespace dnsproxy::test;

class CachingPipelineTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CachingPipelineTest);
	CPPUNIT_TEST(testAnswersRepeatedQueryFromCache);
	CPPUNIT_TEST(testCacheHitIgnoresMaxPending);
	CPPUNIT_TEST(testServesStaleWhenUpstreamFails);
	CPPUNIT_TEST(testServesStaleWhenUpstreamAnswersServfail);
	CPPUNIT_TEST(testServfailWithoutStaleEntry);
	CPPUNIT_TEST(testServesStaleAfterClientResponseTimer);
	CPPUNIT_TEST(testPrefetchRefreshesEntryInBackground);
	CPPUNIT_TEST(testNoCacheWhenNull);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_now = 1000000;
		_acl = allowLoopback();
	}

	void build(cache::CacheSettings cacheSettings = {}, pipeline::PipelineSettings settings = {}, bool withCache = true)
	{
		_pipeline.reset();
		_cache = std::make_unique<cache::PacketCache>(cacheSettings, [this] { return _now.load(); });
		_upstream = std::make_unique<FakeUpstream>();
		_pipeline = std::make_unique<pipeline::QueryPipeline>(settings, _acl, *_upstream, _stats,
															  withCache ? _cache.get() : nullptr);
	}

	std::shared_ptr<CapturingResponder> ask(const std::vector<uint8_t>& q)
	{
		auto responder = std::make_shared<CapturingResponder>();
		frontend::ClientInfo client{Poco::Net::SocketAddress("127.0.0.1", 5353), frontend::Transport::UDP};
		_pipeline->handleQuery(std::vector<uint8_t>(q), client, responder);
		return responder;
	}

	/// Asks once so the upstream's answer (TTL `ttl`) lands in the cache.
	void prime(uint32_t ttl)
	{
		const size_t call = _upstream->count();
		auto first = ask(query("www.example.com", dns::Type::A));
		_upstream->complete(call, upstream::UpstreamResult::Status::OK, answerA("www.example.com", {ttl}));
		CPPUNIT_ASSERT_EQUAL(size_t(1), first->count());
	}

	void testAnswersRepeatedQueryFromCache()
	{
		build();
		prime(300);
		_now += 10;
		auto second = ask(query("WWW.Example.COM", dns::Type::A, false, false, 0x7777));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _upstream->count());
		CPPUNIT_ASSERT_EQUAL(size_t(1), second->count());
		const auto answer = second->answer();
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x7777), dns::readId(answer.data()));
		CPPUNIT_ASSERT_EQUAL(uint32_t(290), ttls(answer)[0]);
		// The client's own letter case comes back (0x20).
		CPPUNIT_ASSERT_EQUAL(std::string("WWW"), std::string(answer.begin() + 13, answer.begin() + 16));
	}

	void testCacheHitIgnoresMaxPending()
	{
		build();
		prime(300);
		pipeline::PipelineSettings settings;
		settings.maxPending = 0;
		auto cacheKeep = std::move(_cache);
		_pipeline = std::make_unique<pipeline::QueryPipeline>(settings, _acl, *_upstream, _stats, cacheKeep.get());
		auto hit = ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(int(dns::Rcode::NOERROR), rcodeOf(hit->answer()));
		auto miss = ask(query("other.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(int(dns::Rcode::REFUSED), rcodeOf(miss->answer()));
		_pipeline.reset();
		_cache = std::move(cacheKeep);
	}

	void testServesStaleWhenUpstreamFails()
	{
		build();
		prime(60);
		_now += 120;
		auto responder = ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(size_t(2), _upstream->count()); // RFC 8767: try to refresh first
		CPPUNIT_ASSERT_EQUAL(size_t(0), responder->count());
		_upstream->complete(1, upstream::UpstreamResult::Status::TIMEOUT);
		CPPUNIT_ASSERT_EQUAL(size_t(1), responder->count());
		CPPUNIT_ASSERT_EQUAL(int(dns::Rcode::NOERROR), rcodeOf(responder->answer()));
		CPPUNIT_ASSERT_EQUAL(uint32_t(30), ttls(responder->answer())[0]);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), _cache->counters().staleServed.load());
	}

	void testServesStaleWhenUpstreamAnswersServfail()
	{
		build();
		prime(60);
		_now += 120;
		auto responder = ask(query("www.example.com", dns::Type::A));
		_upstream->complete(1, upstream::UpstreamResult::Status::OK,
							rcodeOnly("www.example.com", dns::Type::A, dns::Rcode::SERVFAIL));
		CPPUNIT_ASSERT_EQUAL(int(dns::Rcode::NOERROR), rcodeOf(responder->answer()));
		CPPUNIT_ASSERT_EQUAL(uint32_t(30), ttls(responder->answer())[0]);
	}

	void testServfailWithoutStaleEntry()
	{
		cache::CacheSettings settings;
		settings.serveStale = false;
		build(settings);
		prime(60);
		_now += 120;
		auto responder = ask(query("www.example.com", dns::Type::A));
		_upstream->complete(1, upstream::UpstreamResult::Status::FAILED);
		CPPUNIT_ASSERT_EQUAL(int(dns::Rcode::SERVFAIL), rcodeOf(responder->answer()));
	}

	void testServesStaleAfterClientResponseTimer()
	{
		pipeline::PipelineSettings settings;
		settings.staleAnswerAfterMs = 50;
		build({}, settings);
		prime(60);
		_now += 120;
		auto responder = ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT(test::waitFor([&] { return responder->count() == 1; }));
		CPPUNIT_ASSERT_EQUAL(uint32_t(30), ttls(responder->answer())[0]);
		// The late upstream answer refreshes the cache and is not sent a second time.
		_upstream->complete(1, upstream::UpstreamResult::Status::OK, answerA("www.example.com", {300}));
		CPPUNIT_ASSERT_EQUAL(size_t(1), responder->count());
		auto after = ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(uint32_t(300), ttls(after->answer())[0]);
		CPPUNIT_ASSERT_EQUAL(size_t(2), _upstream->count());
	}

	void testPrefetchRefreshesEntryInBackground()
	{
		build();
		prime(100);
		_now += 95;
		auto responder = ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(uint32_t(5), ttls(responder->answer())[0]); // answered at once from the cache
		CPPUNIT_ASSERT_EQUAL(size_t(2), _upstream->count());             // and one refresh went out
		ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(size_t(2), _upstream->count()); // only one
		_upstream->complete(1, upstream::UpstreamResult::Status::OK, answerA("www.example.com", {100}));
		CPPUNIT_ASSERT_EQUAL(size_t(1), responder->count());
		CPPUNIT_ASSERT_EQUAL(uint32_t(100), ttls(ask(query("www.example.com", dns::Type::A))->answer())[0]);
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), _pipeline->pending());
	}

	void testNoCacheWhenNull()
	{
		build({}, {}, false);
		prime(300);
		auto second = ask(query("www.example.com", dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(size_t(2), _upstream->count());
		CPPUNIT_ASSERT_EQUAL(size_t(0), second->count());
		_upstream->complete(1, upstream::UpstreamResult::Status::OK, answerA("www.example.com", {300}));
	}

	void tearDown() override
	{
		_pipeline.reset();
		_upstream.reset();
		_cache.reset();
	}

private:
	std::atomic<int64_t> _now{0};
	frontend::ClientAcl _acl;
	stats::FrontendStats _stats;
	std::unique_ptr<cache::PacketCache> _cache;
	std::unique_ptr<FakeUpstream> _upstream;
	std::unique_ptr<pipeline::QueryPipeline> _pipeline;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(CachingPipelineTest, "pipeline");
