// DatabaseTest.cpp - opening, WAL, migrations and recovery of the SQLite file, against temp files.
#include "integration/storage/StorageTestDir.h"

#include "storage/CacheSnapshotStore.h"
#include "storage/Database.h"
#include "storage/Migrations.h"

#include <Poco/Data/Session.h>
#include <Poco/File.h>
#include <Poco/Path.h>

#include <cppunit/extensions/HelperMacros.h>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <unistd.h>

using namespace Poco::Data::Keywords;

namespace dnsproxy::test
{

namespace
{

void writeFile(const std::string& path, const std::string& content)
{
	std::ofstream out(path, std::ios::binary | std::ios::trunc);
	out << content;
}

/// The permission bits of `path` (like stat -c %a), or -1 when it does not exist.
int modeOf(const std::string& path)
{
	struct stat st
	{
	};
	return ::lstat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

/// Sets the umask for one scope, like a shell that ran `umask 022`.
class UmaskScope
{
public:
	explicit UmaskScope(mode_t mask):
		_previous(::umask(mask))
	{
	}
	~UmaskScope()
	{
		::umask(_previous);
	}

private:
	mode_t _previous;
};

std::vector<std::string> tableNames(storage::Database& db)
{
	std::vector<std::string> names;
	db.withSession([&](Poco::Data::Session& s) {
		s << "SELECT name FROM sqlite_master WHERE type IN ('table','index') AND name NOT LIKE 'sqlite_%' ORDER BY "
			 "name",
			into(names), now;
	});
	return names;
}

storage::CacheRow row(const std::string& key, int64_t expiresAt)
{
	return storage::CacheRow{key, std::vector<uint8_t>(100, 0x5a), expiresAt - 300, expiresAt};
}

} // namespace

class DatabaseTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(DatabaseTest);
	CPPUNIT_TEST(testCreatesSchemaInNewFile);
	CPPUNIT_TEST(testCreatesMissingParentDirectories);
	CPPUNIT_TEST(testOpensBareFileNameInWorkingDirectory);
	CPPUNIT_TEST(testUsesWalJournal);
	CPPUNIT_TEST(testReopenDoesNotRerunMigrations);
	CPPUNIT_TEST(testKeepsDataAcrossReopen);
	CPPUNIT_TEST(testMovesGarbageFileAsideAndStartsFresh);
	CPPUNIT_TEST(testMovesTruncatedDatabaseAside);
	CPPUNIT_TEST(testDoesNotReuseOldWalWithFreshDatabase);
	CPPUNIT_TEST(testEmptyFileBecomesFreshDatabase);
	CPPUNIT_TEST(testRefusesNewerSchema);
	CPPUNIT_TEST(testThrowsWhenDirectoryNotWritable);
	CPPUNIT_TEST(testTransactionRollsBackOnException);
	CPPUNIT_TEST(testCreatesPrivateFoldersAndFilesWhateverTheUmask);
	CPPUNIT_TEST(testNarrowsAnExistingOpenFile);
	CPPUNIT_TEST(testLeavesAnExistingFolderAlone);
	CPPUNIT_TEST_SUITE_END();

public:
	void testCreatesSchemaInNewFile()
	{
		StorageTestDir dir;
		storage::Database db(dir.file("dnsproxy.db"));
		CPPUNIT_ASSERT(Poco::File(dir.file("dnsproxy.db")).exists());
		CPPUNIT_ASSERT_EQUAL(storage::Migrations::latestVersion(), db.schemaVersion());
		std::vector<std::string> expected = {"cache_entries", "cache_entries_expires_at", "pins", "schema_version",
											 "tls_seen"};
		CPPUNIT_ASSERT(expected == tableNames(db));
		CPPUNIT_ASSERT_EQUAL(std::string(), db.movedAsidePath());
	}

	void testCreatesMissingParentDirectories()
	{
		StorageTestDir dir;
		storage::Database db(dir.file("a/b/c/dnsproxy.db"));
		CPPUNIT_ASSERT(Poco::File(dir.file("a/b/c/dnsproxy.db")).exists());
	}

	void testOpensBareFileNameInWorkingDirectory()
	{
		StorageTestDir dir;
		const std::string previous = Poco::Path::current();
		CPPUNIT_ASSERT_EQUAL(0, ::chdir(dir.path().c_str()));
		std::string error;
		try
		{
			storage::Database db("dnsproxy.db");
		}
		catch (const std::exception& e)
		{
			error = e.what();
		}
		CPPUNIT_ASSERT_EQUAL(0, ::chdir(previous.c_str()));
		CPPUNIT_ASSERT_EQUAL(std::string(), error);
		CPPUNIT_ASSERT(Poco::File(dir.file("dnsproxy.db")).exists());
	}

	void testUsesWalJournal()
	{
		StorageTestDir dir;
		storage::Database db(dir.file("dnsproxy.db"));
		CPPUNIT_ASSERT_EQUAL(std::string("wal"), db.journalMode());
		int synchronous = -1;
		db.withSession([&](Poco::Data::Session& s) { s << "PRAGMA synchronous", into(synchronous), now; });
		CPPUNIT_ASSERT_EQUAL(1, synchronous); // NORMAL
	}

	void testReopenDoesNotRerunMigrations()
	{
		StorageTestDir dir;
		const std::string path = dir.file("dnsproxy.db");
		{
			storage::Database db(path);
		}
		storage::Database db(path);
		int rows = 0;
		db.withSession([&](Poco::Data::Session& s) { s << "SELECT COUNT(*) FROM schema_version", into(rows), now; });
		CPPUNIT_ASSERT_EQUAL(static_cast<int>(storage::Migrations::all().size()), rows);
		int applied = -1;
		db.withSession([&](Poco::Data::Session& s) { applied = storage::Migrations::apply(s); });
		CPPUNIT_ASSERT_EQUAL(0, applied);
		CPPUNIT_ASSERT_EQUAL(std::string(), db.movedAsidePath());
	}

	void testKeepsDataAcrossReopen()
	{
		StorageTestDir dir;
		const std::string path = dir.file("dnsproxy.db");
		{
			storage::Database db(path);
			storage::CacheSnapshotStore(db).apply(false, {row("k1", 2000), row("k2", 2000)}, {});
		}
		storage::Database db(path);
		CPPUNIT_ASSERT_EQUAL(size_t(2), storage::CacheSnapshotStore(db).count());
	}

	void testMovesGarbageFileAsideAndStartsFresh()
	{
		StorageTestDir dir;
		const std::string path = dir.file("dnsproxy.db");
		writeFile(path, std::string(8192, 'G') + "this is not an SQLite database");
		LogCapture log("dnsproxy.storage");
		storage::Database db(path);
		CPPUNIT_ASSERT_EQUAL(size_t(1), log.warnings());
		CPPUNIT_ASSERT(log.firstWarning().find("moved it aside") != std::string::npos);
		CPPUNIT_ASSERT(!db.movedAsidePath().empty());
		CPPUNIT_ASSERT(db.movedAsidePath().rfind(path + ".corrupt-", 0) == 0);
		CPPUNIT_ASSERT_EQUAL(Poco::File::FileSize(8192 + 30), Poco::File(db.movedAsidePath()).getSize());
		// The fresh database works.
		storage::CacheSnapshotStore store(db);
		store.apply(false, {row("k", 2000)}, {});
		CPPUNIT_ASSERT_EQUAL(size_t(1), store.count());
		CPPUNIT_ASSERT_EQUAL(std::string("ok"), db.quickCheck());
	}

	void testMovesTruncatedDatabaseAside()
	{
		StorageTestDir dir;
		const std::string path = dir.file("dnsproxy.db");
		{
			storage::Database db(path);
			std::vector<storage::CacheRow> rows;
			for (int i = 0; i < 2000; ++i)
				rows.push_back(row("key-" + std::to_string(i), 5000));
			storage::CacheSnapshotStore(db).apply(false, rows, {});
			db.withSession([](Poco::Data::Session& s) { s << "PRAGMA wal_checkpoint(TRUNCATE)", now; });
		}
		const auto size = Poco::File(path).getSize();
		CPPUNIT_ASSERT(size > 100000);
		CPPUNIT_ASSERT_EQUAL(0, ::truncate(path.c_str(), static_cast<off_t>(size / 2)));
		LogCapture log("dnsproxy.storage");
		storage::Database db(path);
		CPPUNIT_ASSERT_EQUAL(size_t(1), log.warnings());
		CPPUNIT_ASSERT(!db.movedAsidePath().empty());
		CPPUNIT_ASSERT_EQUAL(size_t(0), storage::CacheSnapshotStore(db).count());
	}

	void testDoesNotReuseOldWalWithFreshDatabase()
	{
		// SQLite itself may delete the -wal/-shm of a file it rejects when the connection closes;
		// whatever is left is moved aside with the file. The fresh database never sees them.
		StorageTestDir dir;
		const std::string path = dir.file("dnsproxy.db");
		writeFile(path, "garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage");
		writeFile(path + "-wal", "old wal");
		writeFile(path + "-shm", "old shm");
		LogCapture log("dnsproxy.storage");
		storage::Database db(path);
		CPPUNIT_ASSERT_EQUAL(size_t(1), log.warnings());
		CPPUNIT_ASSERT(Poco::File(db.movedAsidePath()).exists());
		for (const char* suffix : {"-wal", "-shm"})
		{
			Poco::File side(path + suffix);
			CPPUNIT_ASSERT(!side.exists() || side.getSize() != 7);
		}
		CPPUNIT_ASSERT_EQUAL(std::string("ok"), db.quickCheck());
	}

	void testEmptyFileBecomesFreshDatabase()
	{
		// SQLite treats a zero-length file as an empty database: nothing to move aside.
		StorageTestDir dir;
		const std::string path = dir.file("dnsproxy.db");
		writeFile(path, "");
		LogCapture log("dnsproxy.storage");
		storage::Database db(path);
		CPPUNIT_ASSERT_EQUAL(size_t(0), log.warnings());
		CPPUNIT_ASSERT_EQUAL(storage::Migrations::latestVersion(), db.schemaVersion());
	}

	void testRefusesNewerSchema()
	{
		StorageTestDir dir;
		const std::string path = dir.file("dnsproxy.db");
		{
			storage::Database db(path);
			db.withSession([](Poco::Data::Session& s) {
				s << "INSERT INTO schema_version(version, description, applied_at) VALUES(999, 'future', 0)", now;
			});
		}
		CPPUNIT_ASSERT_THROW(storage::Database db(path), storage::StorageError);
		CPPUNIT_ASSERT(Poco::File(path).exists()); // a newer file is not ours to move aside
	}

	void testThrowsWhenDirectoryNotWritable()
	{
		// Also as root (CI): Poco::File::canWrite reads the owner's mode bits when the directory
		// belongs to the caller, so a 0555 directory of root's own is refused too.
		StorageTestDir dir;
		Poco::File locked(dir.file("locked"));
		locked.createDirectories();
		locked.setWriteable(false);
		std::string message;
		try
		{
			storage::Database db(dir.file("locked/dnsproxy.db"));
		}
		catch (const storage::StorageError& e)
		{
			message = e.what();
		}
		locked.setWriteable(true);
		CPPUNIT_ASSERT(message.find("not writable") != std::string::npos);
	}

	void testTransactionRollsBackOnException()
	{
		StorageTestDir dir;
		storage::Database db(dir.file("dnsproxy.db"));
		CPPUNIT_ASSERT_THROW(db.transaction([](Poco::Data::Session& s) {
			s << "INSERT INTO tls_seen(name, first_seen, last_seen) VALUES('a', 1, 1)", now;
			throw std::runtime_error("abort");
		}),
							 std::runtime_error);
		int rows = -1;
		db.withSession([&](Poco::Data::Session& s) { s << "SELECT COUNT(*) FROM tls_seen", into(rows), now; });
		CPPUNIT_ASSERT_EQUAL(0, rows);
	}

	void testCreatesPrivateFoldersAndFilesWhateverTheUmask()
	{
		StorageTestDir dir;
		UmaskScope umask(022);
		const std::string path = dir.file("a/b/dnsproxy.db");
		storage::Database db(path);
		CPPUNIT_ASSERT_EQUAL(size_t(2), db.createdDirectories().size());
		CPPUNIT_ASSERT_EQUAL(0700, modeOf(dir.file("a")));
		CPPUNIT_ASSERT_EQUAL(0700, modeOf(dir.file("a/b")));
		CPPUNIT_ASSERT_EQUAL(Poco::Path(dir.file("a/b/")).toString(), db.directory());
		CPPUNIT_ASSERT_EQUAL(0600, modeOf(path));
		// WAL mode: both side files exist while the database is open, and are as private.
		CPPUNIT_ASSERT_EQUAL(0600, modeOf(path + "-wal"));
		CPPUNIT_ASSERT_EQUAL(0600, modeOf(path + "-shm"));
	}

	void testNarrowsAnExistingOpenFile()
	{
		StorageTestDir dir;
		UmaskScope umask(022);
		const std::string path = dir.file("dnsproxy.db");
		{
			storage::Database db(path);
		}
		CPPUNIT_ASSERT_EQUAL(0, ::chmod(path.c_str(), 0644)); // as versions before this one left it
		storage::Database db(path);
		CPPUNIT_ASSERT_EQUAL(0600, modeOf(path));
		CPPUNIT_ASSERT_EQUAL(0600, modeOf(path + "-wal"));
		CPPUNIT_ASSERT_EQUAL(0600, modeOf(path + "-shm"));
		CPPUNIT_ASSERT_EQUAL(storage::Migrations::latestVersion(), db.schemaVersion()); // locks still work
	}

	void testLeavesAnExistingFolderAlone()
	{
		StorageTestDir dir;
		CPPUNIT_ASSERT_EQUAL(0, ::chmod(dir.path().c_str(), 0755));
		storage::Database db(dir.file("dnsproxy.db"));
		CPPUNIT_ASSERT(db.createdDirectories().empty());
		CPPUNIT_ASSERT_EQUAL(0755, modeOf(dir.path()));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(DatabaseTest, "storage");
CPPUNIT_REGISTRY_ADD("storage", "integration");

} // namespace dnsproxy::test
