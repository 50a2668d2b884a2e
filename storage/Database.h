// Database.h - the one SQLite file of dnsproxy: opening, pragmas, migrations, recovery from corruption.
#pragma once

#include "storage/SqliteStatement.h"

#include <Poco/Data/Session.h>
#include <Poco/Logger.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace dnsproxy::storage
{

/// The database cannot be used at all (directory missing and not creatable, not writable, or a
/// fresh file that still fails). The application exits 2 naming the path setting.
class StorageError: public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

/// Opens or creates the SQLite file at `path` (creating its directory), switches it to WAL
/// (`journal_mode=WAL`, `synchronous=NORMAL`: a crash or kill -9 never corrupts it and loses at
/// most the transaction in progress) with a busy timeout, checks it (`PRAGMA quick_check`) and
/// brings the schema up to date (Migrations).
///
/// The file holds every name the clients resolved, so it is private (SPEC section 6): the folders
/// this constructor creates are mode 0700 and the database with its `-wal` and `-shm` files 0600
/// (an existing file of ours that was more open is narrowed before SQLite opens it, because SQLite
/// gives the side files the main file's mode). Symbolic links are never followed for that.
///
/// A file that is not a database or fails the check is renamed to `<path>.corrupt-<unix time>`
/// (with its `-wal` and `-shm` files), one warning is logged on `dnsproxy.storage`, and a new
/// database is started in its place: the proxy always serves (SPEC section 4, Persistence).
///
/// Threading: one Poco::Data::Session guarded by one mutex. Every access goes through
/// withSession() or transaction(), which hold that mutex for the whole call, so the stores built
/// on a Database may be used from any thread. Calls are serialised: keep them short and off the
/// DNS hot path (the cache writes behind in batches; pins change per TLS connection, not query).
/// statement() may only be called from inside such a call, on its thread.
class Database
{
public:
	static constexpr int BUSY_TIMEOUT_SECONDS = 5;
	static constexpr int OPEN_TIMEOUT_SECONDS = 1; ///< POCO login timeout for opening the file

	/// Throws StorageError when the directory cannot be created or written, or when even a fresh
	/// database cannot be opened there.
	explicit Database(const std::string& path);
	~Database();

	Database(const Database&) = delete;
	Database& operator=(const Database&) = delete;

	const std::string& path() const
	{
		return _path;
	}

	/// The folders the constructor created for the file, outermost first; empty when it existed.
	const std::vector<std::string>& createdDirectories() const
	{
		return _createdDirectories;
	}

	/// The folder that holds the file, absolute.
	std::string directory() const;

	/// Gives the folders created for the file and the database, `-wal` and `-shm` files to
	/// uid:gid, so a process that drops root to that user afterwards can still write them, and
	/// delete the side files when it closes. Symbolic links are not followed. Throws StorageError.
	void giveTo(uid_t uid, gid_t gid);

	/// Where a corrupt file found at start was moved; empty when the file was fine or absent.
	const std::string& movedAsidePath() const
	{
		return _movedAside;
	}

	/// Runs `work` with the session while holding the database mutex.
	template <typename Work> auto withSession(Work&& work) -> decltype(work(std::declval<Poco::Data::Session&>()))
	{
		std::lock_guard<std::mutex> lock(_mutex);
		Holder holder(_holder);
		return work(*_session);
	}

	/// Runs `work` inside BEGIN IMMEDIATE ... COMMIT while holding the mutex; rolls back and rethrows
	/// when `work` throws, so the file holds either all of it or none of it.
	void transaction(const std::function<void(Poco::Data::Session&)>& work);

	/// The raw SQLite statement for `sql` on this connection, prepared on first use and kept until
	/// the connection closes (the Database is destroyed), so the hot paths parse their SQL once.
	/// Only inside withSession() or transaction() work: it runs under the mutex, like the session.
	SqliteStatement& statement(std::string_view sql);

	int schemaVersion();
	std::string journalMode();
	std::string quickCheck();

private:
	/// Marks the thread that holds _mutex, so statement() can check its caller.
	class Holder
	{
	public:
		explicit Holder(std::atomic<std::thread::id>& holder):
			_holder(holder)
		{
			_holder.store(std::this_thread::get_id(), std::memory_order_relaxed);
		}
		~Holder()
		{
			_holder.store(std::thread::id(), std::memory_order_relaxed);
		}
		Holder(const Holder&) = delete;
		Holder& operator=(const Holder&) = delete;

	private:
		std::atomic<std::thread::id>& _holder;
	};

	void openChecked();
	/// Finalizes the cached statements, then closes the session: SQLite cannot close a
	/// connection that still has statements.
	void closeSession();
	void moveAside(const std::string& reason);
	void createDirectory(const std::string& directory);

	std::string _path;
	std::string _movedAside;
	std::vector<std::string> _createdDirectories;
	std::mutex _mutex;
	std::atomic<std::thread::id> _holder{};
	std::unique_ptr<Poco::Data::Session> _session;
	/// Declared after _session so that they are destroyed before it, too.
	std::map<std::string, std::unique_ptr<SqliteStatement>, std::less<>> _statements;
	Poco::Logger& _logger;
};

} // namespace dnsproxy::storage
