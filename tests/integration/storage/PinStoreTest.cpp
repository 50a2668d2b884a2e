// PinStoreTest.cpp - the pins and tls_seen tables: learning, approval, configuration, forgetting.
#include "integration/storage/StorageTestDir.h"

#include "storage/Database.h"
#include "storage/PinStore.h"

#include <cppunit/extensions/HelperMacros.h>

namespace dnsproxy::test
{

namespace
{
const std::string NAME = "dns.example";
const std::string KEY_A = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
const std::string KEY_B = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=";
const std::string KEY_C = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
} // namespace

class PinStoreTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PinStoreTest);
	CPPUNIT_TEST(testRecordSeenInsertsLearnedPin);
	CPPUNIT_TEST(testRecordSeenAgainBumpsCountAndLastSeen);
	CPPUNIT_TEST(testRecordSeenReportsKeyChangeForKnownName);
	CPPUNIT_TEST(testRecordSeenKeepsNotAfterWhenNotGiven);
	CPPUNIT_TEST(testApproveInsertsApprovedPin);
	CPPUNIT_TEST(testApprovePromotesLearnedPin);
	CPPUNIT_TEST(testApproveLeavesConfiguredPin);
	CPPUNIT_TEST(testAddConfiguredOverridesLearned);
	CPPUNIT_TEST(testSyncConfiguredRemovesUnconfigured);
	CPPUNIT_TEST(testForgetDeletesLearnedAndApprovedOnly);
	CPPUNIT_TEST(testListFiltersByName);
	CPPUNIT_TEST(testHasName);
	CPPUNIT_TEST(testTlsSeenSurvivesForgetAndReopen);
	CPPUNIT_TEST(testRejectsUnknownSource);
	CPPUNIT_TEST(testPinsSurviveReopen);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_dir = std::make_unique<StorageTestDir>();
		_db = std::make_unique<storage::Database>(_dir->file("pins.db"));
		_pins = std::make_unique<storage::PinStore>(*_db);
	}

	void tearDown() override
	{
		_pins.reset();
		_db.reset();
		_dir.reset();
	}

	void testRecordSeenInsertsLearnedPin()
	{
		auto seen = _pins->recordSeen(NAME, KEY_A, 1000, int64_t(5000));
		CPPUNIT_ASSERT(!seen.knownName);
		CPPUNIT_ASSERT(seen.newDigest);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::LEARNED, seen.source);
		auto rows = listed(1);
		CPPUNIT_ASSERT_EQUAL(NAME, rows[0].name);
		CPPUNIT_ASSERT_EQUAL(KEY_A, rows[0].sha256);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::LEARNED, rows[0].source);
		CPPUNIT_ASSERT_EQUAL(int64_t(1000), rows[0].firstSeen);
		CPPUNIT_ASSERT_EQUAL(int64_t(1000), rows[0].lastSeen);
		CPPUNIT_ASSERT_EQUAL(int64_t(1), rows[0].count);
		CPPUNIT_ASSERT(rows[0].notAfter.has_value());
		CPPUNIT_ASSERT_EQUAL(int64_t(5000), *rows[0].notAfter);
	}

	void testRecordSeenAgainBumpsCountAndLastSeen()
	{
		_pins->recordSeen(NAME, KEY_A, 1000);
		auto seen = _pins->recordSeen(NAME, KEY_A, 1500);
		CPPUNIT_ASSERT(seen.knownName);
		CPPUNIT_ASSERT(!seen.newDigest);
		auto rows = listed(1);
		CPPUNIT_ASSERT_EQUAL(int64_t(1000), rows[0].firstSeen);
		CPPUNIT_ASSERT_EQUAL(int64_t(1500), rows[0].lastSeen);
		CPPUNIT_ASSERT_EQUAL(int64_t(2), rows[0].count);
		CPPUNIT_ASSERT(!rows[0].notAfter.has_value());
	}

	void testRecordSeenReportsKeyChangeForKnownName()
	{
		_pins->recordSeen(NAME, KEY_A, 1000);
		auto seen = _pins->recordSeen(NAME, KEY_B, 2000);
		CPPUNIT_ASSERT(seen.knownName);
		CPPUNIT_ASSERT(seen.newDigest);
		CPPUNIT_ASSERT_EQUAL(size_t(2), _pins->list(NAME).size());
	}

	void testRecordSeenKeepsNotAfterWhenNotGiven()
	{
		_pins->recordSeen(NAME, KEY_A, 1000, int64_t(9000));
		_pins->recordSeen(NAME, KEY_A, 1100);
		CPPUNIT_ASSERT_EQUAL(int64_t(9000), _pins->list()[0].notAfter.value_or(-1));
		_pins->recordSeen(NAME, KEY_A, 1200, int64_t(9500));
		CPPUNIT_ASSERT_EQUAL(int64_t(9500), _pins->list()[0].notAfter.value_or(-1));
	}

	void testApproveInsertsApprovedPin()
	{
		_pins->recordSeen(NAME, KEY_A, 1000);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::APPROVED, _pins->approve(NAME, KEY_B, 2000));
		auto rows = listed(2, NAME);
		CPPUNIT_ASSERT_EQUAL(KEY_B, rows[1].sha256);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::APPROVED, rows[1].source);
		CPPUNIT_ASSERT_EQUAL(int64_t(0), rows[1].count);
		// Seeing the approved key afterwards keeps it approved.
		auto seen = _pins->recordSeen(NAME, KEY_B, 3000);
		CPPUNIT_ASSERT(!seen.newDigest);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::APPROVED, seen.source);
	}

	void testApprovePromotesLearnedPin()
	{
		_pins->recordSeen(NAME, KEY_A, 1000);
		_pins->recordSeen(NAME, KEY_A, 1100);
		_pins->approve(NAME, KEY_A, 2000);
		auto rows = listed(1, NAME);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::APPROVED, rows[0].source);
		CPPUNIT_ASSERT_EQUAL(int64_t(2), rows[0].count);
		CPPUNIT_ASSERT_EQUAL(int64_t(1000), rows[0].firstSeen);
	}

	void testApproveLeavesConfiguredPin()
	{
		_pins->addConfigured(NAME, KEY_A, 1000);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::CONFIG, _pins->approve(NAME, KEY_A, 2000));
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::CONFIG, listed(1, NAME)[0].source);
	}

	void testAddConfiguredOverridesLearned()
	{
		_pins->recordSeen(NAME, KEY_A, 1000);
		_pins->addConfigured(NAME, KEY_A, 2000);
		_pins->addConfigured(NAME, KEY_B, 2000);
		auto rows = listed(2, NAME);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::CONFIG, rows[0].source);
		CPPUNIT_ASSERT_EQUAL(int64_t(1), rows[0].count);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::CONFIG, rows[1].source);
	}

	void testSyncConfiguredRemovesUnconfigured()
	{
		_pins->addConfigured(NAME, KEY_A, 1000);
		_pins->addConfigured("other.example", KEY_B, 1000);
		_pins->recordSeen(NAME, KEY_C, 1000);
		_pins->syncConfigured({{NAME, KEY_B}}, 2000);
		auto rows = listed(2);
		CPPUNIT_ASSERT_EQUAL(KEY_C, rows[0].sha256); // learned, untouched (first_seen 1000)
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::LEARNED, rows[0].source);
		CPPUNIT_ASSERT_EQUAL(KEY_B, rows[1].sha256);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::CONFIG, rows[1].source);
	}

	void testForgetDeletesLearnedAndApprovedOnly()
	{
		_pins->recordSeen(NAME, KEY_A, 1000);
		_pins->approve(NAME, KEY_B, 1000);
		_pins->addConfigured(NAME, KEY_C, 1000);
		_pins->recordSeen("other.example", KEY_A, 1000);
		CPPUNIT_ASSERT_EQUAL(size_t(2), _pins->forget(NAME));
		auto rows = listed(1, NAME);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::CONFIG, rows[0].source);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _pins->list("other.example").size());
		CPPUNIT_ASSERT_EQUAL(size_t(0), _pins->forget("never.example"));
	}

	void testListFiltersByName()
	{
		_pins->recordSeen("b.example", KEY_A, 1000);
		_pins->recordSeen("a.example", KEY_B, 1000);
		_pins->recordSeen("a.example", KEY_C, 500);
		auto all = listed(3);
		CPPUNIT_ASSERT_EQUAL(std::string("a.example"), all[0].name);
		CPPUNIT_ASSERT_EQUAL(KEY_C, all[0].sha256); // earliest first_seen first
		CPPUNIT_ASSERT_EQUAL(size_t(1), _pins->list(std::string("b.example")).size());
		CPPUNIT_ASSERT_EQUAL(size_t(0), _pins->list(std::string("c.example")).size());
	}

	void testHasName()
	{
		CPPUNIT_ASSERT(!_pins->hasName(NAME));
		_pins->addConfigured(NAME, KEY_A, 1);
		CPPUNIT_ASSERT(_pins->hasName(NAME));
		CPPUNIT_ASSERT(!_pins->hasName("other.example"));
	}

	void testTlsSeenSurvivesForgetAndReopen()
	{
		CPPUNIT_ASSERT(!_pins->tlsSeen(NAME));
		_pins->markTlsSeen(NAME, 1000);
		_pins->markTlsSeen(NAME, 2000);
		_pins->recordSeen(NAME, KEY_A, 1000);
		_pins->forget(NAME);
		CPPUNIT_ASSERT(_pins->tlsSeen(NAME));
		reopen();
		CPPUNIT_ASSERT(_pins->tlsSeen(NAME));
		CPPUNIT_ASSERT(!_pins->tlsSeen("other.example"));
	}

	void testRejectsUnknownSource()
	{
		CPPUNIT_ASSERT_THROW(_db->withSession([](Poco::Data::Session& s) {
			s << "INSERT INTO pins(name, sha256, source, first_seen, last_seen) VALUES('n', 'd', 'bogus', 1, 1)",
				Poco::Data::Keywords::now;
		}),
							 Poco::Exception);
	}

	void testPinsSurviveReopen()
	{
		_pins->recordSeen(NAME, KEY_A, 1000);
		_pins->approve(NAME, KEY_B, 1000);
		reopen();
		auto rows = listed(2, NAME);
		CPPUNIT_ASSERT_EQUAL(storage::PinSource::APPROVED, rows[1].source);
	}

private:
	/// list(name), after checking that it holds `count` rows (so a test may index them).
	std::vector<storage::PinRow> listed(size_t count, const std::optional<std::string>& name = std::nullopt) const
	{
		auto rows = _pins->list(name);
		CPPUNIT_ASSERT_EQUAL(count, rows.size());
		return rows;
	}

	void reopen()
	{
		_pins.reset();
		_db = std::make_unique<storage::Database>(_dir->file("pins.db"));
		_pins = std::make_unique<storage::PinStore>(*_db);
	}

	std::unique_ptr<StorageTestDir> _dir;
	std::unique_ptr<storage::Database> _db;
	std::unique_ptr<storage::PinStore> _pins;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PinStoreTest, "storage");

} // namespace dnsproxy::test
