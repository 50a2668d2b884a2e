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

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

const mode_t PRIVATE_DIRECTORY = 0700;
const mode_t PRIVATE_FILE = 0600;
const char* const SIDE_FILES[] = {"-wal", "-shm"};

/// An O_PATH descriptor of an existing regular file, a symbolic link not followed (a local user who
/// can write the folder must not make root chmod or chown another file); -1 when absent or not a
/// plain file. O_PATH because closing it does not release the POSIX locks SQLite holds on the same
/// file, which closing any other descriptor of it would (fcntl(2)).
int openPath(const std::string& path)
{
	const int fd = ::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st
	{
	};
	if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		::close(fd);
		return -1;
	}
	return fd;
}

/// Narrows an existing file of ours to 0600; a file of another user is left as it is (SQLite says
/// whether it can use it).
void makePrivate(const std::string& path)
{
	const int fd = openPath(path);
	if (fd < 0)
		return;
	struct stat st
	{
	};
	if (::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & 07777) != PRIVATE_FILE)
	{
		// fchmod() does not take an O_PATH descriptor; its /proc link names exactly that file.
		const std::string link = "/proc/self/fd/" + std::to_string(fd);
		(void)::chmod(link.c_str(), PRIVATE_FILE); // best effort: without /proc the umask still applies
	}
	::close(fd);
}

} // namespace

Database::Database(const std::string& path):
	_path(path),
	_logger(Poco::Logger::get("dnsproxy.storage"))
{
	registerConnectorOnce();
	if (_path.empty())
		throw StorageError("no database path given");

	const Poco::Path parent(directory());
	try
	{
		createDirectory(parent.toString());
		Poco::File dir(parent);
		if (!dir.isDirectory())
			throw StorageError("'" + parent.toString() + "' is not a directory");
		if (!dir.canWrite())
			throw StorageError("directory '" + parent.toString() + "' is not writable");
	}
	catch (const Poco::Exception& e)
	{
		throw StorageError("cannot create directory '" + parent.toString() + "': " + e.displayText());
	}

	makePrivate(_path);
	for (const char* suffix : SIDE_FILES)
		makePrivate(_path + suffix);
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

std::string Database::directory() const
{
	// makeAbsolute(): the parent of a bare file name ("dnsproxy.db") is otherwise empty.
	return Poco::Path(_path).makeAbsolute().makeParent().toString();
}

void Database::createDirectory(const std::string& directory)
{
	// Outermost missing folder first; each is made 0700 whatever the umask (SPEC section 6).
	std::vector<std::string> missing;
	for (Poco::Path p(directory); p.depth() > 0 && !Poco::File(p).exists(); p.makeParent())
		missing.insert(missing.begin(), p.toString());
	for (const auto& dir : missing)
	{
		if (::mkdir(dir.c_str(), PRIVATE_DIRECTORY) != 0)
		{
			if (errno == EEXIST)
				continue; // made meanwhile by someone else: not ours
			throw StorageError("cannot create directory '" + dir + "': " + std::strerror(errno));
		}
		(void)::chmod(dir.c_str(), PRIVATE_DIRECTORY); // mkdir() applied the umask
		_createdDirectories.push_back(dir);
	}
}

void Database::giveTo(uid_t uid, gid_t gid)
{
	for (const auto& dir : _createdDirectories)
	{
		if (::lchown(dir.c_str(), uid, gid) != 0)
			throw StorageError("cannot give directory '" + dir + "' to uid " + std::to_string(uid) + ": " +
							   std::strerror(errno));
	}
	std::vector<std::string> files{_path};
	for (const char* suffix : SIDE_FILES)
		files.push_back(_path + suffix);
	for (const auto& file : files)
	{
		const int fd = openPath(file);
		if (fd < 0)
			continue; // a side file SQLite has not made (yet) is created by the new owner
		const int rc = ::fchownat(fd, "", uid, gid, AT_EMPTY_PATH);
		const int error = errno;
		::close(fd);
		if (rc != 0)
			throw StorageError("cannot give '" + file + "' to uid " + std::to_string(uid) + ": " +
							   std::strerror(error));
	}
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
	// A fresh file and its side files get SQLite's 0644 minus the umask; narrow them whatever it is.
	makePrivate(_path);
	for (const char* suffix : SIDE_FILES)
		makePrivate(_path + suffix);
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
