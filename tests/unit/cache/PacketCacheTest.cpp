// PacketCacheTest.cpp - PacketCache behaviour on a fake clock: ageing, RFC 2308, serve-stale, LRU, prefetch,
// persistence API.
#include "cache/PacketCache.h"

#include "dns/Constants.h"
#include "dns/Header.h"
#include "support/CachePackets.h"
#include "support/MessageFields.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <memory>

using namespace dnsproxy;
using namespace dnsproxy::test::cachepackets;
using cache::CacheSettings;
using cache::PacketCache;

namespace
{

const std::string NAME = "www.example.com";

} // namespace

class PacketCacheTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PacketCacheTest);
	CPPUNIT_TEST(testMissOnEmptyCache);
	CPPUNIT_TEST(testAgesTtlOnHit);
	CPPUNIT_TEST(testStoresAnswerWithIdZeroAndLowerCaseQuestion);
	CPPUNIT_TEST(testClampsTtlToMinMax);
	CPPUNIT_TEST(testExpiresAtSmallestTtl);
	CPPUNIT_TEST(testCachesNxdomainWithSoaMinimum);
	CPPUNIT_TEST(testCapsNegativeTtl);
	CPPUNIT_TEST(testCachesNodata);
	CPPUNIT_TEST(testDoesNotCacheNegativeWithoutSoa);
	CPPUNIT_TEST(testServfailAtMostFiveSeconds);
	CPPUNIT_TEST(testServfailDoesNotReplaceServableEntry);
	CPPUNIT_TEST(testNeverCachesTruncated);
	CPPUNIT_TEST(testDoesNotCacheOtherRcodes);
	CPPUNIT_TEST(testDoesNotCacheZeroTtl);
	CPPUNIT_TEST(testRejectsAnswerToAnotherQuestion);
	CPPUNIT_TEST(testServesStaleWithinMaxStale);
	CPPUNIT_TEST(testNoStaleWhenDisabled);
	CPPUNIT_TEST(testNoStaleServfail);
	CPPUNIT_TEST(testEvictsLeastRecentlyUsed);
	CPPUNIT_TEST(testEntryCountBoundedUnderFlood);
	CPPUNIT_TEST(testPrefetchFlaggedOnceInLastTenPercent);
	CPPUNIT_TEST(testPrefetchNotFlaggedWhenDisabled);
	CPPUNIT_TEST(testRefreshRenewsTtlAndPrefetchFlag);
	CPPUNIT_TEST(testKeySeparatesDoAndCdBits);
	CPPUNIT_TEST(testKeyIsCaseInsensitive);
	CPPUNIT_TEST(testCountsHitsMissesAndStale);
	CPPUNIT_TEST(testDrainChangesReportsUpsertsOnce);
	CPPUNIT_TEST(testDrainChangesReportsEvictionsAndErasures);
	CPPUNIT_TEST(testDrainChangesReportsClear);
	CPPUNIT_TEST(testDrainChangesResyncsAfterOverflow);
	CPPUNIT_TEST(testLoadRecomputesTtls);
	CPPUNIT_TEST(testLoadDropsEntriesPastMaxStale);
	CPPUNIT_TEST(testLoadDoesNotMarkDirty);
	CPPUNIT_TEST(testLoadRejectsCorruptRecords);
	CPPUNIT_TEST(testExportAllRoundTripsThroughLoad);
	CPPUNIT_TEST(testFindByNameAndType);
	CPPUNIT_TEST(testFindAllIsCapped);
	CPPUNIT_TEST(testEraseRemovesEveryEntryOfName);
	CPPUNIT_TEST(testClearEmptiesCache);
	CPPUNIT_TEST(testStoresAnswerWithoutPaddingOrKeepalive);
	CPPUNIT_TEST(testProbeCopiesAgedAnswerIntoBuffer);
	CPPUNIT_TEST(testProbeTellsFreshStaleAndMiss);
	CPPUNIT_TEST(testPendingChangesCountsUntilDrain);
	CPPUNIT_TEST(testReplacedEntryIsOneUpsertNotAnErasure);
	CPPUNIT_TEST(testManyShardsKeepEveryEntryFindable);
	CPPUNIT_TEST(testLoadRejectsTimesThatDoNotFit);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_now = 1000000;
	}

	std::unique_ptr<PacketCache> makeCache(const CacheSettings& settings = CacheSettings{})
	{
		return std::make_unique<PacketCache>(settings, [this] { return _now; });
	}

	/// answerA(NAME, ttls) stored under NAME's A key; what insert() returned.
	static bool insertA(PacketCache& cache, std::vector<uint32_t> ttls)
	{
		const auto answer = answerA(NAME, std::move(ttls));
		return cache.insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size());
	}

	void testMissOnEmptyCache()
	{
		auto cache = makeCache();
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A)));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), cache->counters().misses.load());
	}

	void testAgesTtlOnHit()
	{
		auto cache = makeCache();
		const auto answer = answerA(NAME, {300, 600});
		CPPUNIT_ASSERT(cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size()));
		_now += 10;
		auto hit = cache->lookup(keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT(hit);
		CPPUNIT_ASSERT(hit->fresh);
		CPPUNIT_ASSERT(ttls(hit->answer) == std::vector<uint32_t>({290, 590}));
		_now += 100;
		CPPUNIT_ASSERT(ttls(cache->lookup(keyFor(NAME, dns::Type::A))->answer) == std::vector<uint32_t>({190, 490}));
	}

	void testStoresAnswerWithIdZeroAndLowerCaseQuestion()
	{
		auto cache = makeCache();
		const auto answer = answerA("WwW.ExAmple.COM", {300});
		CPPUNIT_ASSERT(cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size()));
		auto hit = cache->lookup(keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), dns::readId(hit->answer.data()));
		auto expected = answerA(NAME, {300}, 0);
		CPPUNIT_ASSERT(expected == hit->answer);
	}

	void testClampsTtlToMinMax()
	{
		CacheSettings settings;
		settings.minTtl = 60;
		settings.maxTtl = 600;
		auto cache = makeCache(settings);
		const auto low = answerA("low.example", {10});
		const auto high = answerA("high.example", {3600});
		CPPUNIT_ASSERT(cache->insert(keyFor("low.example", dns::Type::A), low.data(), low.size()));
		CPPUNIT_ASSERT(cache->insert(keyFor("high.example", dns::Type::A), high.data(), high.size()));
		CPPUNIT_ASSERT_EQUAL(uint32_t(60), ttls(cache->lookup(keyFor("low.example", dns::Type::A))->answer)[0]);
		CPPUNIT_ASSERT_EQUAL(uint32_t(600), ttls(cache->lookup(keyFor("high.example", dns::Type::A))->answer)[0]);
		_now += 599;
		CPPUNIT_ASSERT(cache->lookup(keyFor("high.example", dns::Type::A))->fresh);
		_now += 1;
		CPPUNIT_ASSERT(!cache->lookup(keyFor("high.example", dns::Type::A))->fresh);
	}

	void testExpiresAtSmallestTtl()
	{
		auto cache = makeCache();
		insertA(*cache, {600, 30});
		_now += 29;
		CPPUNIT_ASSERT(cache->lookup(keyFor(NAME, dns::Type::A))->fresh);
		_now += 1;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A))->fresh);
	}

	void testCachesNxdomainWithSoaMinimum()
	{
		CacheSettings settings;
		settings.serveStale = false;
		auto cache = makeCache(settings);
		const auto nx = negative("nx.example", dns::Type::A, dns::Rcode::NXDOMAIN, 3600, 300);
		CPPUNIT_ASSERT(cache->insert(keyFor("nx.example", dns::Type::A), nx.data(), nx.size()));
		auto hit = cache->lookup(keyFor("nx.example", dns::Type::A));
		CPPUNIT_ASSERT(hit && hit->fresh);
		CPPUNIT_ASSERT_EQUAL(int(dns::Rcode::NXDOMAIN), test::rcodeOf(hit->answer));
		// The SOA's own TTL is capped to the entry's lifetime, min(SOA TTL, MINIMUM) = 300.
		CPPUNIT_ASSERT_EQUAL(uint32_t(300), ttls(hit->answer)[0]);
		_now += 299;
		CPPUNIT_ASSERT(cache->lookup(keyFor("nx.example", dns::Type::A)));
		_now += 1;
		CPPUNIT_ASSERT(!cache->lookup(keyFor("nx.example", dns::Type::A)));
	}

	void testCapsNegativeTtl()
	{
		CacheSettings settings;
		settings.negativeTtl = 100;
		settings.serveStale = false;
		auto cache = makeCache(settings);
		const auto nx = negative("nx.example", dns::Type::A, dns::Rcode::NXDOMAIN, 3600, 3600);
		cache->insert(keyFor("nx.example", dns::Type::A), nx.data(), nx.size());
		CPPUNIT_ASSERT_EQUAL(uint32_t(100), ttls(cache->lookup(keyFor("nx.example", dns::Type::A))->answer)[0]);
		_now += 100;
		CPPUNIT_ASSERT(!cache->lookup(keyFor("nx.example", dns::Type::A)));
	}

	void testCachesNodata()
	{
		CacheSettings settings;
		settings.serveStale = false;
		auto cache = makeCache(settings);
		const auto nodata = negative(NAME, dns::Type::AAAA, dns::Rcode::NOERROR, 120, 900);
		CPPUNIT_ASSERT(cache->insert(keyFor(NAME, dns::Type::AAAA), nodata.data(), nodata.size()));
		_now += 119;
		auto hit = cache->lookup(keyFor(NAME, dns::Type::AAAA));
		CPPUNIT_ASSERT(hit && hit->fresh);
		CPPUNIT_ASSERT_EQUAL(uint32_t(1), ttls(hit->answer)[0]);
		_now += 1;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::AAAA)));
	}

	void testDoesNotCacheNegativeWithoutSoa()
	{
		auto cache = makeCache();
		const auto nx = negative("nx.example", dns::Type::A, dns::Rcode::NXDOMAIN, 0, 0, false);
		CPPUNIT_ASSERT(!cache->insert(keyFor("nx.example", dns::Type::A), nx.data(), nx.size()));
		const auto nodata = negative(NAME, dns::Type::AAAA, dns::Rcode::NOERROR, 0, 0, false);
		CPPUNIT_ASSERT(!cache->insert(keyFor(NAME, dns::Type::AAAA), nodata.data(), nodata.size()));
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->size());
	}

	void testServfailAtMostFiveSeconds()
	{
		auto cache = makeCache(); // serve_stale on: a SERVFAIL is still never served stale
		const auto servfail = rcodeOnly(NAME, dns::Type::A, dns::Rcode::SERVFAIL);
		CPPUNIT_ASSERT(cache->insert(keyFor(NAME, dns::Type::A), servfail.data(), servfail.size()));
		_now += 4;
		CPPUNIT_ASSERT(cache->lookup(keyFor(NAME, dns::Type::A))->fresh);
		_now += 1;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A)));
	}

	void testServfailDoesNotReplaceServableEntry()
	{
		auto cache = makeCache();
		const auto good = answerA(NAME, {60});
		cache->insert(keyFor(NAME, dns::Type::A), good.data(), good.size());
		_now += 120; // stale now, still servable
		const auto servfail = rcodeOnly(NAME, dns::Type::A, dns::Rcode::SERVFAIL);
		CPPUNIT_ASSERT(!cache->insert(keyFor(NAME, dns::Type::A), servfail.data(), servfail.size()));
		auto hit = cache->lookup(keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT(hit && !hit->fresh);
		CPPUNIT_ASSERT_EQUAL(int(dns::Rcode::NOERROR), test::rcodeOf(hit->answer));
	}

	void testNeverCachesTruncated()
	{
		auto cache = makeCache();
		const auto tc = answerA(NAME, {300}, 0x1234, 0x8380);
		CPPUNIT_ASSERT(!cache->insert(keyFor(NAME, dns::Type::A), tc.data(), tc.size()));
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A)));
	}

	void testDoesNotCacheOtherRcodes()
	{
		auto cache = makeCache();
		for (uint8_t rcode : {dns::Rcode::REFUSED, dns::Rcode::FORMERR, dns::Rcode::NOTIMP})
		{
			const auto answer = rcodeOnly(NAME, dns::Type::A, rcode);
			CPPUNIT_ASSERT(!cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size()));
		}
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->size());
	}

	void testDoesNotCacheZeroTtl()
	{
		auto cache = makeCache();
		CPPUNIT_ASSERT(!insertA(*cache, {0}));
	}

	void testRejectsAnswerToAnotherQuestion()
	{
		auto cache = makeCache();
		const auto answer = answerA("evil.example", {300});
		CPPUNIT_ASSERT(!cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size()));
		CPPUNIT_ASSERT(!cache->insert(keyFor("evil.example", dns::Type::AAAA), answer.data(), answer.size()));
	}

	void testServesStaleWithinMaxStale()
	{
		CacheSettings settings;
		settings.maxStale = 100;
		auto cache = makeCache(settings);
		const auto answer = answerA(NAME, {60, 600});
		cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size());
		_now += 61;
		auto hit = cache->lookup(keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT(hit && !hit->fresh);
		CPPUNIT_ASSERT(ttls(hit->answer) == std::vector<uint32_t>({30, 30})); // RFC 8767: stale_answer_ttl
		_now = 1000000 + 60 + 100;
		CPPUNIT_ASSERT(cache->lookup(keyFor(NAME, dns::Type::A)));
		_now += 1;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A)));
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->size()); // dropped once past max_stale
	}

	void testNoStaleWhenDisabled()
	{
		CacheSettings settings;
		settings.serveStale = false;
		auto cache = makeCache(settings);
		insertA(*cache, {60});
		_now += 60;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A)));
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->size());
	}

	void testNoStaleServfail()
	{
		auto cache = makeCache();
		const auto servfail = rcodeOnly(NAME, dns::Type::A, dns::Rcode::SERVFAIL);
		cache->insert(keyFor(NAME, dns::Type::A), servfail.data(), servfail.size());
		_now += 6;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A), false));
	}

	void testEvictsLeastRecentlyUsed()
	{
		CacheSettings settings;
		settings.maxEntries = 3;
		auto cache = makeCache(settings);
		for (const char* name : {"a.example", "b.example", "c.example"})
		{
			const auto answer = answerA(name, {300});
			cache->insert(keyFor(name, dns::Type::A), answer.data(), answer.size());
		}
		CPPUNIT_ASSERT(cache->lookup(keyFor("a.example", dns::Type::A))); // a is now the most recent
		const auto d = answerA("d.example", {300});
		cache->insert(keyFor("d.example", dns::Type::A), d.data(), d.size());
		CPPUNIT_ASSERT_EQUAL(size_t(3), cache->size());
		CPPUNIT_ASSERT(!cache->lookup(keyFor("b.example", dns::Type::A)));
		CPPUNIT_ASSERT(cache->lookup(keyFor("a.example", dns::Type::A)));
		CPPUNIT_ASSERT(cache->lookup(keyFor("c.example", dns::Type::A)));
		CPPUNIT_ASSERT(cache->lookup(keyFor("d.example", dns::Type::A)));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), cache->counters().evictions.load());
	}

	/// Issue 5 acceptance 8 in process: 500,000 unique names, max_entries = 100,000.
	void testEntryCountBoundedUnderFlood()
	{
		CacheSettings settings;
		settings.maxEntries = 100000;
		auto cache = makeCache(settings);
		size_t largest = 0;
		for (int i = 0; i < 500000; ++i)
		{
			const std::string name = "n" + std::to_string(i) + ".flood.example";
			const auto answer = answerA(name, {300});
			CPPUNIT_ASSERT(cache->insert(keyFor(name, dns::Type::A), answer.data(), answer.size()));
			largest = std::max(largest, cache->size());
		}
		CPPUNIT_ASSERT(largest <= 100000);
		CPPUNIT_ASSERT(cache->size() >= 99000); // shards fill evenly enough
		CPPUNIT_ASSERT_EQUAL(uint64_t(500000 - cache->size()), cache->counters().evictions.load());
		// The write-behind change set stays bounded too: a resync of what is there.
		auto changes = cache->drainChanges();
		CPPUNIT_ASSERT(changes.cleared);
		CPPUNIT_ASSERT_EQUAL(cache->size(), changes.upserts.size());
		CPPUNIT_ASSERT(changes.erasedKeys.empty());
	}

	void testPrefetchFlaggedOnceInLastTenPercent()
	{
		auto cache = makeCache();
		insertA(*cache, {100});
		_now += 89;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A))->needsPrefetch);
		_now += 1; // 10 s of 100 left
		CPPUNIT_ASSERT(cache->lookup(keyFor(NAME, dns::Type::A))->needsPrefetch);
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A))->needsPrefetch);
		_now += 5;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A))->needsPrefetch);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), cache->counters().prefetches.load());
	}

	void testPrefetchNotFlaggedWhenDisabled()
	{
		CacheSettings settings;
		settings.prefetch = false;
		auto cache = makeCache(settings);
		insertA(*cache, {100});
		_now += 95;
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A))->needsPrefetch);
	}

	void testRefreshRenewsTtlAndPrefetchFlag()
	{
		auto cache = makeCache();
		const auto answer = answerA(NAME, {100});
		cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size());
		_now += 95;
		CPPUNIT_ASSERT(cache->lookup(keyFor(NAME, dns::Type::A))->needsPrefetch);
		cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size()); // the prefetch's answer
		auto hit = cache->lookup(keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(uint32_t(100), ttls(hit->answer)[0]);
		_now += 95;
		CPPUNIT_ASSERT(cache->lookup(keyFor(NAME, dns::Type::A))->needsPrefetch);
	}

	void testKeySeparatesDoAndCdBits()
	{
		auto cache = makeCache();
		const auto answer = answerA(NAME, {300});
		cache->insert(keyFor(NAME, dns::Type::A, true, false), answer.data(), answer.size());
		CPPUNIT_ASSERT(cache->lookup(keyFor(NAME, dns::Type::A, true, false)));
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A, false, false)));
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A, true, true)));
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A, false, true)));
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::AAAA, true, false)));
	}

	void testKeyIsCaseInsensitive()
	{
		auto cache = makeCache();
		const auto answer = answerA(NAME, {300});
		cache->insert(keyFor("WWW.example.COM", dns::Type::A), answer.data(), answer.size());
		CPPUNIT_ASSERT(cache->lookup(keyFor("www.EXAMPLE.com", dns::Type::A)));
		CPPUNIT_ASSERT(keyFor("WwW.ExAmPlE.CoM", dns::Type::A) == keyFor(NAME, dns::Type::A));
	}

	void testCountsHitsMissesAndStale()
	{
		auto cache = makeCache();
		const auto answer = answerA(NAME, {60});
		cache->lookup(keyFor(NAME, dns::Type::A));
		cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size());
		cache->lookup(keyFor(NAME, dns::Type::A));
		_now += 61;
		cache->lookup(keyFor(NAME, dns::Type::A)); // stale: a miss until the pipeline serves it
		cache->lookup(keyFor(NAME, dns::Type::A), false);
		cache->countStaleServed();
		stats::StatsSnapshot::Cache snapshot;
		cache->fillStats(snapshot);
		CPPUNIT_ASSERT(snapshot.enabled);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), snapshot.entries);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), snapshot.hits);
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), snapshot.misses);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), snapshot.staleServed);
	}

	void testDrainChangesReportsUpsertsOnce()
	{
		auto cache = makeCache();
		const auto answer = answerA(NAME, {300});
		cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size());
		_now += 7;
		cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size());
		auto changes = cache->drainChanges();
		CPPUNIT_ASSERT(!changes.cleared);
		CPPUNIT_ASSERT_EQUAL(size_t(1), changes.upserts.size());
		CPPUNIT_ASSERT(changes.upserts[0].key == keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT_EQUAL(int64_t(_now), changes.upserts[0].storedAt);
		CPPUNIT_ASSERT_EQUAL(int64_t(_now + 300), changes.upserts[0].expiresAt);
		CPPUNIT_ASSERT(answerA(NAME, {300}, 0) == changes.upserts[0].answer);
		CPPUNIT_ASSERT(changes.erasedKeys.empty());
		auto again = cache->drainChanges();
		CPPUNIT_ASSERT(again.upserts.empty() && again.erasedKeys.empty() && !again.cleared);
	}

	void testDrainChangesReportsEvictionsAndErasures()
	{
		CacheSettings settings;
		settings.maxEntries = 1;
		auto cache = makeCache(settings);
		const auto a = answerA("a.example", {300});
		const auto b = answerA("b.example", {300});
		cache->insert(keyFor("a.example", dns::Type::A), a.data(), a.size());
		cache->drainChanges();
		cache->insert(keyFor("b.example", dns::Type::A), b.data(), b.size()); // evicts a
		auto changes = cache->drainChanges();
		CPPUNIT_ASSERT_EQUAL(size_t(1), changes.upserts.size());
		CPPUNIT_ASSERT(changes.erasedKeys == std::vector<std::string>({keyFor("a.example", dns::Type::A)}));
		CPPUNIT_ASSERT_EQUAL(size_t(1), cache->erase("B.example."));
		changes = cache->drainChanges();
		CPPUNIT_ASSERT(changes.upserts.empty());
		CPPUNIT_ASSERT(changes.erasedKeys == std::vector<std::string>({keyFor("b.example", dns::Type::A)}));
	}

	void testDrainChangesReportsClear()
	{
		auto cache = makeCache();
		const auto a = answerA("a.example", {300});
		const auto b = answerA("b.example", {300});
		cache->insert(keyFor("a.example", dns::Type::A), a.data(), a.size());
		cache->clear();
		cache->insert(keyFor("b.example", dns::Type::A), b.data(), b.size());
		auto changes = cache->drainChanges();
		CPPUNIT_ASSERT(changes.cleared);
		CPPUNIT_ASSERT_EQUAL(size_t(1), changes.upserts.size());
		CPPUNIT_ASSERT(changes.upserts[0].key == keyFor("b.example", dns::Type::A));
		CPPUNIT_ASSERT(!cache->drainChanges().cleared);
	}

	void testDrainChangesResyncsAfterOverflow()
	{
		CacheSettings settings;
		settings.maxEntries = 10;
		auto cache = makeCache(settings);
		for (int i = 0; i < 100; ++i)
		{
			const std::string name = "n" + std::to_string(i) + ".example";
			const auto answer = answerA(name, {300});
			cache->insert(keyFor(name, dns::Type::A), answer.data(), answer.size());
		}
		auto changes = cache->drainChanges();
		CPPUNIT_ASSERT(changes.cleared);
		CPPUNIT_ASSERT_EQUAL(size_t(10), changes.upserts.size());
		CPPUNIT_ASSERT(changes.erasedKeys.empty());
		CPPUNIT_ASSERT(!cache->drainChanges().cleared);
	}

	void testLoadRecomputesTtls()
	{
		auto first = makeCache();
		const auto answer = answerA(NAME, {300, 600});
		first->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size());
		auto records = first->exportAll();
		_now += 100; // the time the proxy was down
		auto second = makeCache();
		second->load(std::move(records), _now);
		auto hit = second->lookup(keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT(hit && hit->fresh);
		CPPUNIT_ASSERT(ttls(hit->answer) == std::vector<uint32_t>({200, 500}));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), second->counters().loaded.load());
	}

	void testLoadDropsEntriesPastMaxStale()
	{
		CacheSettings settings;
		settings.maxStale = 1000;
		auto first = makeCache(settings);
		const auto a = answerA("a.example", {300});
		const auto b = answerA("b.example", {3000});
		first->insert(keyFor("a.example", dns::Type::A), a.data(), a.size());
		first->insert(keyFor("b.example", dns::Type::A), b.data(), b.size());
		auto records = first->exportAll();
		_now += 1301; // a: 1001 s past expiry
		auto second = makeCache(settings);
		second->load(std::move(records), _now);
		CPPUNIT_ASSERT_EQUAL(size_t(1), second->size());
		CPPUNIT_ASSERT(second->lookup(keyFor("b.example", dns::Type::A)));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), second->counters().loadRejected.load());
	}

	void testLoadDoesNotMarkDirty()
	{
		auto first = makeCache();
		insertA(*first, {300});
		auto second = makeCache();
		second->load(first->exportAll(), _now);
		auto changes = second->drainChanges();
		CPPUNIT_ASSERT(!changes.cleared && changes.upserts.empty() && changes.erasedKeys.empty());
	}

	void testLoadRejectsCorruptRecords()
	{
		auto cache = makeCache();
		const auto answer = answerA(NAME, {300});
		std::vector<cache::CacheRecord> records;
		records.push_back({"garbage", answer, _now, _now + 300});                             // bad key
		records.push_back({keyFor(NAME, dns::Type::A), {1, 2, 3}, _now, _now + 300});         // bad answer
		records.push_back({keyFor("other.example", dns::Type::A), answer, _now, _now + 300}); // mismatch
		records.push_back({keyFor(NAME, dns::Type::A), answer, _now, _now - 5});              // expires before stored
		cache->load(std::move(records), _now);
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->size());
		CPPUNIT_ASSERT_EQUAL(uint64_t(4), cache->counters().loadRejected.load());
	}

	void testExportAllRoundTripsThroughLoad()
	{
		auto first = makeCache();
		for (int i = 0; i < 50; ++i)
		{
			const std::string name = "n" + std::to_string(i) + ".example";
			const auto answer = answerA(name, {300});
			first->insert(keyFor(name, dns::Type::A), answer.data(), answer.size());
		}
		auto second = makeCache();
		second->load(first->exportAll(), _now);
		CPPUNIT_ASSERT_EQUAL(size_t(50), second->size());
		CPPUNIT_ASSERT(second->lookup(keyFor("n49.example", dns::Type::A)));
	}

	void testFindByNameAndType()
	{
		auto cache = makeCache();
		const auto a = answerA(NAME, {300});
		const auto nodata = negative(NAME, dns::Type::AAAA, dns::Rcode::NOERROR, 120, 900);
		const auto other = answerA("other.example", {300});
		cache->insert(keyFor(NAME, dns::Type::A), a.data(), a.size());
		cache->insert(keyFor(NAME, dns::Type::A, true), a.data(), a.size());
		cache->insert(keyFor(NAME, dns::Type::AAAA), nodata.data(), nodata.size());
		cache->insert(keyFor("other.example", dns::Type::A), other.data(), other.size());
		_now += 20;
		CPPUNIT_ASSERT_EQUAL(size_t(3), cache->find("WWW.Example.com", std::nullopt).size());
		auto aaaa = cache->find("www.example.com.", dns::Type::AAAA);
		CPPUNIT_ASSERT_EQUAL(size_t(1), aaaa.size());
		CPPUNIT_ASSERT_EQUAL(std::string("www.example.com."), aaaa[0].name);
		CPPUNIT_ASSERT_EQUAL(dns::Type::AAAA, aaaa[0].type);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), aaaa[0].klass);
		CPPUNIT_ASSERT_EQUAL(int64_t(100), aaaa[0].ttlRemaining);
		CPPUNIT_ASSERT_EQUAL(nodata.size(), aaaa[0].size);
		CPPUNIT_ASSERT_EQUAL(size_t(4), cache->find("", std::nullopt).size());
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->find("bad..name", std::nullopt).size());
	}

	void testFindAllIsCapped()
	{
		auto cache = makeCache();
		for (int i = 0; i < 1500; ++i)
		{
			const std::string name = "n" + std::to_string(i) + ".example";
			const auto answer = answerA(name, {300});
			cache->insert(keyFor(name, dns::Type::A), answer.data(), answer.size());
		}
		CPPUNIT_ASSERT_EQUAL(PacketCache::FIND_LIMIT, cache->find("", std::nullopt).size());
	}

	void testEraseRemovesEveryEntryOfName()
	{
		auto cache = makeCache();
		const auto a = answerA(NAME, {300});
		const auto nodata = negative(NAME, dns::Type::AAAA, dns::Rcode::NOERROR, 120, 900);
		const auto other = answerA("sub.www.example.com", {300});
		cache->insert(keyFor(NAME, dns::Type::A), a.data(), a.size());
		cache->insert(keyFor(NAME, dns::Type::AAAA), nodata.data(), nodata.size());
		cache->insert(keyFor("sub.www.example.com", dns::Type::A), other.data(), other.size());
		CPPUNIT_ASSERT_EQUAL(size_t(2), cache->erase("www.EXAMPLE.com"));
		CPPUNIT_ASSERT_EQUAL(size_t(1), cache->size());
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A)));
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->erase(""));
	}

	void testClearEmptiesCache()
	{
		auto cache = makeCache();
		const auto a = answerA(NAME, {300});
		cache->insert(keyFor(NAME, dns::Type::A), a.data(), a.size());
		cache->clear();
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->size());
		CPPUNIT_ASSERT(!cache->lookup(keyFor(NAME, dns::Type::A)));
	}

	void testStoresAnswerWithoutPaddingOrKeepalive()
	{
		auto cache = makeCache();
		const std::vector<uint8_t> keepalive = {0x00, 0x64};
		auto options = test::ednsOption(dns::EdnsOptionCode::TCP_KEEPALIVE, keepalive);
		const auto padding = test::ednsOption(dns::EdnsOptionCode::PADDING, std::vector<uint8_t>(400, 0));
		options.insert(options.end(), padding.begin(), padding.end());
		test::PacketBuilder padded;
		padded.header(0x1234, 0x8180, 1, 1, 0, 1).question(NAME, dns::Type::A);
		padded.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, 300, 4).bytes({192, 0, 2, 1});
		padded.opt(1232, false, options);
		const auto answer = padded.data();
		CPPUNIT_ASSERT(cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size()));

		test::PacketBuilder plain;
		plain.header(0, 0x8180, 1, 1, 0, 1).question(NAME, dns::Type::A);
		plain.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, 300, 4).bytes({192, 0, 2, 1});
		plain.opt(1232, false);
		auto hit = cache->lookup(keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT(hit);
		CPPUNIT_ASSERT_EQUAL(plain.data().size(), hit->answer.size());
		CPPUNIT_ASSERT(plain.data() == hit->answer);
	}

	void testProbeCopiesAgedAnswerIntoBuffer()
	{
		auto cache = makeCache();
		const auto answer = answerA(NAME, {300});
		CPPUNIT_ASSERT(cache->insert(keyFor(NAME, dns::Type::A), answer.data(), answer.size()));
		_now += 10;
		std::vector<uint8_t> out(1000, 0xff);
		bool prefetch = true;
		CPPUNIT_ASSERT(cache->probe(keyFor(NAME, dns::Type::A), out, prefetch) == PacketCache::Probe::FRESH);
		CPPUNIT_ASSERT(!prefetch);
		CPPUNIT_ASSERT(ttls(out) == std::vector<uint32_t>({290}));
		CPPUNIT_ASSERT_EQUAL(answer.size(), out.size());
		CPPUNIT_ASSERT(out.capacity() >= 1000); // the caller's buffer, not a new one
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), cache->counters().hits.load());
	}

	void testProbeTellsFreshStaleAndMiss()
	{
		auto cache = makeCache();
		CPPUNIT_ASSERT(insertA(*cache, {30}));
		std::vector<uint8_t> out;
		bool prefetch = true;
		_now += 5;
		CPPUNIT_ASSERT(cache->probe(keyFor(NAME, dns::Type::A), out, prefetch) == PacketCache::Probe::FRESH);
		CPPUNIT_ASSERT(ttls(out) == std::vector<uint32_t>({25}));
		CPPUNIT_ASSERT(!prefetch);
		_now += 60; // past expiry, within max_stale
		out.clear();
		CPPUNIT_ASSERT(cache->probe(keyFor(NAME, dns::Type::A), out, prefetch) == PacketCache::Probe::STALE);
		CPPUNIT_ASSERT(out.empty()); // nothing copied for a stale entry
		CPPUNIT_ASSERT(cache->probe(keyFor("other.example", dns::Type::A), out, prefetch) == PacketCache::Probe::MISS);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), cache->counters().hits.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), cache->counters().misses.load());
		_now += 86400 + 100; // past max_stale: the probe drops it
		CPPUNIT_ASSERT(cache->probe(keyFor(NAME, dns::Type::A), out, prefetch) == PacketCache::Probe::MISS);
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->size());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), cache->counters().expired.load());
	}

	void testPendingChangesCountsUntilDrain()
	{
		CacheSettings settings;
		settings.maxEntries = 2;
		auto cache = makeCache(settings);
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->pendingChanges());
		for (const char* name : {"a.example", "b.example", "c.example"}) // c evicts a
		{
			const auto answer = answerA(name, {300});
			CPPUNIT_ASSERT(cache->insert(keyFor(name, dns::Type::A), answer.data(), answer.size()));
		}
		CPPUNIT_ASSERT_EQUAL(size_t(4), cache->pendingChanges()); // 3 upserts (a gone) + 1 erased key
		auto changes = cache->drainChanges();
		CPPUNIT_ASSERT_EQUAL(size_t(2), changes.upserts.size());
		CPPUNIT_ASSERT_EQUAL(size_t(1), changes.erasedKeys.size());
		CPPUNIT_ASSERT_EQUAL(size_t(0), cache->pendingChanges());
	}

	void testReplacedEntryIsOneUpsertNotAnErasure()
	{
		auto cache = makeCache();
		const auto first = answerA(NAME, {300});
		const auto second = answerA(NAME, {300, 600, 900}); // a different size: a new allocation
		CPPUNIT_ASSERT(cache->insert(keyFor(NAME, dns::Type::A), first.data(), first.size()));
		cache->drainChanges();
		CPPUNIT_ASSERT(cache->insert(keyFor(NAME, dns::Type::A), second.data(), second.size()));
		auto changes = cache->drainChanges();
		CPPUNIT_ASSERT(changes.erasedKeys.empty());
		CPPUNIT_ASSERT_EQUAL(size_t(1), changes.upserts.size());
		CPPUNIT_ASSERT(answerA(NAME, {300, 600, 900}, 0) == changes.upserts[0].answer);
		CPPUNIT_ASSERT_EQUAL(size_t(1), cache->size());
		auto hit = cache->lookup(keyFor(NAME, dns::Type::A));
		CPPUNIT_ASSERT(hit && ttls(hit->answer) == std::vector<uint32_t>({300, 600, 900}));
	}

	void testManyShardsKeepEveryEntryFindable()
	{
		// Enough entries to grow every shard's hash table several times; all must stay reachable.
		auto cache = makeCache();
		for (int i = 0; i < 5000; ++i)
		{
			const std::string name = "n" + std::to_string(i) + ".example";
			const auto answer = answerA(name, {300});
			CPPUNIT_ASSERT(cache->insert(keyFor(name, dns::Type::A), answer.data(), answer.size()));
		}
		CPPUNIT_ASSERT_EQUAL(size_t(5000), cache->size());
		std::vector<uint8_t> out;
		bool prefetch = false;
		for (int i = 0; i < 5000; ++i)
		{
			const std::string name = "n" + std::to_string(i) + ".example";
			CPPUNIT_ASSERT(cache->probe(keyFor(name, dns::Type::A), out, prefetch) == PacketCache::Probe::FRESH);
		}
		CPPUNIT_ASSERT_EQUAL(size_t(5000), cache->exportAll().size());
		CPPUNIT_ASSERT_EQUAL(size_t(1), cache->erase("n4999.example"));
		CPPUNIT_ASSERT(cache->probe(keyFor("n4999.example", dns::Type::A), out, prefetch) == PacketCache::Probe::MISS);
	}

	void testLoadRejectsTimesThatDoNotFit()
	{
		auto first = makeCache();
		insertA(*first, {300});
		auto records = first->exportAll();
		records.push_back(records[0]);
		records[0].storedAt = -5; // a corrupt row
		records[1].expiresAt = int64_t(UINT32_MAX) + 10;
		auto second = makeCache();
		second->load(std::move(records), _now);
		CPPUNIT_ASSERT_EQUAL(size_t(0), second->size());
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), second->counters().loadRejected.load());
	}

private:
	int64_t _now = 0;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PacketCacheTest, "cache");
CPPUNIT_REGISTRY_ADD("cache", "unit");
