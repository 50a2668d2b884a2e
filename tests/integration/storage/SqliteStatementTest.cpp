// SqliteStatementTest.cpp - raw SQLite statements handed out by Database, against a temp file.
#include "integration/storage/StorageTestDir.h"

#include "storage/Database.h"
#include "storage/SqliteStatement.h"

#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Exception.h>
#include <Poco/File.h>

#include <cppunit/extensions/HelperMacros.h>

using namespace Poco::Data::Keywords;

namespace dnsproxy::test
{

class SqliteStatementTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SqliteStatementTest);
	CPPUNIT_TEST(testPreparesEachSqlOncePerConnection);
	CPPUNIT_TEST(testRefusesStatementOutsideSession);
	CPPUNIT_TEST(testThrowsPocoExceptionForInvalidSql);
	CPPUNIT_TEST(testRefusesMoreThanOneStatement);
	CPPUNIT_TEST(testExecuteReturnsChangedRows);
	CPPUNIT_TEST(testBindsEmptyBlobAsEmptyNotNull);
	CPPUNIT_TEST(testFailedStepThrowsAndStatementStaysUsable);
	CPPUNIT_TEST(testVisitorExceptionResetsQuery);
	CPPUNIT_TEST(testClosingFinalizesCachedStatements);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_dir = std::make_unique<StorageTestDir>();
		_db = std::make_unique<storage::Database>(_dir->file("db"));
		_db->withSession(
			[](Poco::Data::Session& s) { s << "CREATE TABLE t (k BLOB PRIMARY KEY, v BLOB NOT NULL)", now; });
	}

	void tearDown() override
	{
		_db.reset();
		_dir.reset();
	}

	void testPreparesEachSqlOncePerConnection()
	{
		storage::SqliteStatement* first = nullptr;
		storage::SqliteStatement* second = nullptr;
		storage::SqliteStatement* other = nullptr;
		_db->withSession([&](Poco::Data::Session&) { first = &_db->statement("SELECT COUNT(*) FROM t"); });
		_db->transaction([&](Poco::Data::Session&) {
			second = &_db->statement("SELECT COUNT(*) FROM t");
			other = &_db->statement("SELECT k FROM t");
		});
		CPPUNIT_ASSERT(first == second);
		CPPUNIT_ASSERT(first != other);
	}

	void testRefusesStatementOutsideSession()
	{
		// Outside withSession()/transaction() another thread may be using the connection.
		CPPUNIT_ASSERT_THROW(_db->statement("SELECT 1"), Poco::AssertionViolationException);
	}

	void testThrowsPocoExceptionForInvalidSql()
	{
		CPPUNIT_ASSERT_THROW(_db->withSession([&](Poco::Data::Session&) { _db->statement("SELECT * FROM nothing"); }),
							 Poco::Data::SQLite::InvalidSQLStatementException);
	}

	void testRefusesMoreThanOneStatement()
	{
		// Only the first would run, silently.
		CPPUNIT_ASSERT_THROW(
			_db->withSession([&](Poco::Data::Session&) { _db->statement("DELETE FROM t; DROP TABLE t"); }),
			Poco::Data::SQLite::InvalidSQLStatementException);
		// A trailing semicolon or blank is still one statement.
		_db->withSession([&](Poco::Data::Session&) { _db->statement("DELETE FROM t;\n ").execute(); });
	}

	void testExecuteReturnsChangedRows()
	{
		insert("a", "1");
		insert("b", "2");
		size_t deleted = 0;
		_db->withSession([&](Poco::Data::Session&) { deleted = _db->statement("DELETE FROM t").execute(); });
		CPPUNIT_ASSERT_EQUAL(size_t(2), deleted);
	}

	void testBindsEmptyBlobAsEmptyNotNull()
	{
		insert("", ""); // v is NOT NULL
		std::string type;
		_db->withSession(
			[&](Poco::Data::Session& s) { s << "SELECT typeof(k) || ',' || typeof(v) FROM t", into(type), now; });
		CPPUNIT_ASSERT_EQUAL(std::string("blob,blob"), type);
	}

	void testFailedStepThrowsAndStatementStaysUsable()
	{
		insert("a", "1");
		CPPUNIT_ASSERT_THROW(insert("a", "2"), Poco::Data::SQLite::ConstraintViolationException);
		// The failed statement was reset: it runs again, and nothing holds a lock or a transaction.
		insert("b", "2");
		CPPUNIT_ASSERT_EQUAL(size_t(2), rows());
		_db->transaction([](Poco::Data::Session& s) { s << "DELETE FROM t", now; });
		CPPUNIT_ASSERT_EQUAL(size_t(0), rows());
	}

	void testVisitorExceptionResetsQuery()
	{
		insert("a", "1");
		insert("b", "2");
		CPPUNIT_ASSERT_THROW(_db->withSession([&](Poco::Data::Session&) {
			_db->statement("SELECT k FROM t").forEachRow([] { throw std::runtime_error("stop"); });
		}),
							 std::runtime_error);
		// A query left running would start again from where it stopped instead of the first row.
		CPPUNIT_ASSERT_EQUAL(size_t(2), rows());
	}

	void testClosingFinalizesCachedStatements()
	{
		insert("a", "1");
		CPPUNIT_ASSERT_EQUAL(size_t(1), rows());
		const std::string wal = _dir->file("db-wal");
		CPPUNIT_ASSERT(Poco::File(wal).exists());
		_db.reset();
		// SQLite checkpoints and removes the WAL only when it really closes the connection, which
		// it refuses while a statement is left unfinalized.
		CPPUNIT_ASSERT(!Poco::File(wal).exists());
	}

private:
	void insert(const std::string& key, const std::string& value)
	{
		_db->withSession([&](Poco::Data::Session&) {
			storage::SqliteStatement& insert = _db->statement("INSERT INTO t(k, v) VALUES(?1, ?2)");
			insert.bindBlob(1, key.data(), key.size());
			insert.bindBlob(2, value.data(), value.size());
			CPPUNIT_ASSERT_EQUAL(size_t(1), insert.execute());
		});
	}

	size_t rows()
	{
		return _db->withSession([&](Poco::Data::Session&) {
			storage::SqliteStatement& select = _db->statement("SELECT k FROM t");
			return select.forEachRow([] {});
		});
	}

	std::unique_ptr<StorageTestDir> _dir;
	std::unique_ptr<storage::Database> _db;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(SqliteStatementTest, "storage");

} // namespace dnsproxy::test
