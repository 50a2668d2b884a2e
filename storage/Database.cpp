// Database.cpp - opening the SQLite file, WAL pragmas, migrations and moving a corrupt file aside.
#include "storage/Database.h"

#include "storage/Migrations.h"

#include <Poco/Bugcheck.h>
#include <Poco/Data/DataException.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>

#include <ctime>

using namespace Poco::Data::Keywords;

namespace dnsproxy::storage
{

namespace
{

void registerConnectorOnce()
{
	static std::once_flag once;
	std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
}

std::string pragmaText(Poco::Data::Session& session, const std::string& pragma)
{
	std::string value;
	session << "PRAGMA " + pragma, into(value), now;
	return value;
}

/// Errors that say "this file is not a usable database" rather than "you cannot use it now":
/// a lock held by another process or a permission problem must not move a good file aside.
bool isLockOrAccessError(const Poco::Exception& e)
{
	return dynamic_cast<const Poco::Data::SQLite::DBLockedException*>(&e) ||
		   dynamic_cast<const Poco::Data::SQLite::TableLockedException*>(&e) ||
		   dynamic_cast<const Poco::Data::SQLite::LockProtocolException*>(&e) ||
		   dynamic_cast<const Poco::Data::SQLite::DBAccessDeniedException*>(&e) ||
		   dynamic_cast<const Poco::Data::SQLite::ReadOnlyException*>(&e) ||
		   dynamic_cast<const Poco::Data::SQLite::CantOpenDBFileException*>(&e) ||
		   dynamic_cast<const Poco::Data::SQLite::DatabaseFullException*>(&e);
}

} // namespace

Database::Database(const std::string& path):
	_path(path),
	_logger(Poco::Logger::get("dnsproxy.storage"))
{
	registerConnectorOnce();
	if (_path.empty())
		throw StorageError("no database path given");

	// makeAbsolute(): the parent of a bare file name ("dnsproxy.db") is otherwise empty.
	Poco::Path parent = Poco::Path(_path).makeAbsolute().makeParent();
	try
	{
		Poco::File dir(parent);
		dir.createDirectories();
		if (!dir.isDirectory())
			throw StorageError("'" + parent.toString() + "' is not a directory");
		if (!dir.canWrite())
			throw StorageError("directory '" + parent.toString() + "' is not writable");
	}
	catch (const Poco::Exception& e)
	{
		throw StorageError("cannot create directory '" + parent.toString() + "': " + e.displayText());
	}

	try
	{
		openChecked();
	}
	catch (const StorageError&)
	{
		throw;
	}
	catch (const Poco::Exception& e)
	{
		closeSession();
		if (isLockOrAccessError(e))
			throw StorageError("cannot open '" + _path + "': " + e.displayText());
		moveAside(e.displayText());
		try
		{
			openChecked();
		}
		catch (const Poco::Exception& again)
		{
			closeSession();
			throw StorageError("cannot create a new database at '" + _path + "': " + again.displayText());
		}
	}
}

Database::~Database()
{
	closeSession();
}

void Database::closeSession()
{
	_statements.clear();
	_session.reset();
}

void Database::openChecked()
{
	// Throws Poco::Data exceptions (SQLITE_NOTADB, SQLITE_CORRUPT, ...) for a bad file; the
	// constructor decides whether that means "move aside".
	// POCO retries a failed open until this login timeout (60 s by default); a local file either
	// opens at once or not at all.
	_session = std::make_unique<Poco::Data::Session>("SQLite", _path, OPEN_TIMEOUT_SECONDS);
	_session->setConnectionTimeout(BUSY_TIMEOUT_SECONDS); // sqlite3_busy_timeout
	const std::string check = pragmaText(*_session, "quick_check");
	if (check != "ok")
		throw Poco::Data::DataException("PRAGMA quick_check: " + check);
	const std::string mode = pragmaText(*_session, "journal_mode=WAL");
	if (mode != "wal")
		throw StorageError("cannot switch '" + _path + "' to WAL mode (journal_mode is '" + mode + "')");
	*_session << "PRAGMA synchronous=NORMAL", now;
	// 512 KiB of page cache instead of SQLite's 2 MiB: the write-behind batches touch pages all over
	// the table either way (the OS page cache holds the file), and the proxy's memory target is tight.
	*_session << "PRAGMA cache_size=-512", now;
	Migrations::apply(*_session);
}

void Database::moveAside(const std::string& reason)
{
	const std::string stamp = std::to_string(static_cast<long long>(std::time(nullptr)));
	std::string aside = _path + ".corrupt-" + stamp;
	for (int n = 1; Poco::File(aside).exists(); ++n)
		aside = _path + ".corrupt-" + stamp + "." + std::to_string(n);
	try
	{
		Poco::File(_path).renameTo(aside);
		for (const char* suffix : {"-wal", "-shm", "-journal"})
		{
			Poco::File side(_path + suffix);
			if (side.exists())
				side.renameTo(aside + suffix);
		}
	}
	catch (const Poco::Exception& e)
	{
		throw StorageError("database '" + _path + "' is unusable (" + reason +
						   ") and cannot be moved aside: " + e.displayText());
	}
	_movedAside = aside;
	_logger.warning("database '" + _path + "' is unusable (" + reason + "); moved it aside to '" + aside +
					"' and started a new one");
}

void Database::transaction(const std::function<void(Poco::Data::Session&)>& work)
{
	std::lock_guard<std::mutex> lock(_mutex);
	Holder holder(_holder);
	Poco::Data::Session& session = *_session;
	// IMMEDIATE takes the write lock now, so a second process cannot make COMMIT fail half-way.
	session << "BEGIN IMMEDIATE", now;
	try
	{
		work(session);
		session << "COMMIT", now;
	}
	catch (...)
	{
		try
		{
			session << "ROLLBACK", now;
		}
		catch (const Poco::Exception& e)
		{
			// SQLite may already have rolled back (e.g. SQLITE_FULL); the original error is what matters.
			_logger.warning("rollback after a failed transaction failed too: " + e.displayText());
		}
		throw;
	}
}

SqliteStatement& Database::statement(std::string_view sql)
{
	poco_assert_msg(_holder.load(std::memory_order_relaxed) == std::this_thread::get_id(),
					"Database::statement() outside withSession()/transaction()");
	auto it = _statements.find(sql);
	if (it == _statements.end())
	{
		auto prepared = std::make_unique<SqliteStatement>(Poco::Data::SQLite::Utility::dbHandle(*_session), sql);
		it = _statements.emplace(std::string(sql), std::move(prepared)).first;
	}
	return *it->second;
}

int Database::schemaVersion()
{
	std::lock_guard<std::mutex> lock(_mutex);
	return Migrations::currentVersion(*_session);
}

std::string Database::journalMode()
{
	std::lock_guard<std::mutex> lock(_mutex);
	return pragmaText(*_session, "journal_mode");
}

std::string Database::quickCheck()
{
	std::lock_guard<std::mutex> lock(_mutex);
	return pragmaText(*_session, "quick_check");
}

} // namespace dnsproxy::storage
