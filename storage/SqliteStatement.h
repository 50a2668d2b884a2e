// SqliteStatement.h - one statement of the raw SQLite C API, prepared once and reused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace dnsproxy::storage
{

/// A prepared statement on the connection that POCO opened (Poco::Data::SQLite::Utility::dbHandle),
/// for the hot write path and the start-up read, where Poco::Data statements cost too much: they
/// parse the SQL again per Statement and copy every blob into a Poco::Data::BLOB.
///
/// Bind blobs with bindBlob(): SQLite reads them straight from the caller's memory
/// (SQLITE_STATIC), so the bytes must stay where they are until execute() or forEachRow() returns.
/// Both reset the statement and clear its bindings before they return, also when they throw, so
/// a statement is never left running inside a transaction and never keeps a pointer to memory
/// that has gone. Every SQLite error is thrown as the Poco::Data::SQLite exception POCO itself
/// throws for that code (Poco::Data::SQLite::Utility::throwException), so callers that catch
/// Poco::Exception need nothing new.
///
/// Threading: none of its own. Use it only while holding the lock that serialises the
/// connection (Database::statement() hands them out under Database's mutex). Destroy it before
/// the connection is closed.
class SqliteStatement
{
public:
	/// Prepares `sql` (exactly one statement) on `db`; throws if it does not compile.
	SqliteStatement(sqlite3* db, std::string_view sql);
	~SqliteStatement();

	SqliteStatement(const SqliteStatement&) = delete;
	SqliteStatement& operator=(const SqliteStatement&) = delete;

	/// Parameter indexes start at 1, as in SQLite. `data` may be null when `size` is 0.
	void bindBlob(int index, const void* data, size_t size);
	void bindInt64(int index, int64_t value);

	/// Runs a statement that returns no rows; returns the rows it inserted, changed or deleted.
	size_t execute();

	/// Runs a query and calls `visit()` once per row; inside `visit`, read the row with the
	/// column*() accessors (their pointers are valid only until `visit` returns). Returns the
	/// number of rows.
	template <typename Visit> size_t forEachRow(Visit&& visit)
	{
		ResetOnExit reset(*this);
		size_t rows = 0;
		while (step())
		{
			visit();
			++rows;
		}
		return rows;
	}

	/// Blob (or text) of column `index` (from 0) of the current row; null when it is empty or NULL.
	const uint8_t* columnBlob(int index) const;
	/// Size in bytes of that column; call it after columnBlob(), as SQLite asks.
	size_t columnBytes(int index) const;
	int64_t columnInt64(int index) const;

	const std::string& sql() const
	{
		return _sql;
	}

private:
	struct ResetOnExit
	{
		explicit ResetOnExit(SqliteStatement& statement):
			_statement(statement)
		{
		}
		~ResetOnExit()
		{
			_statement.reset();
		}
		SqliteStatement& _statement;
	};

	/// true when a row is ready, false when the statement has finished; throws on an error.
	bool step();
	void reset() noexcept;
	[[noreturn]] void fail(int rc, const std::string& what) const;

	sqlite3* _db;
	sqlite3_stmt* _statement = nullptr;
	std::string _sql;
};

} // namespace dnsproxy::storage
