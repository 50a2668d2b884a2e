// SqliteStatement.cpp - preparing, binding, stepping and resetting one raw SQLite statement.
#include "storage/SqliteStatement.h"

#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>

#include <sqlite3.h>

#include <climits>

namespace dnsproxy::storage
{

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql):
	_db(db),
	_sql(sql)
{
	if (!_db)
		throw Poco::Data::SQLite::InvalidLibraryUseException("no open SQLite connection", _sql);
	const char* tail = nullptr;
	// PERSISTENT: the statement lives as long as the connection, so SQLite keeps it out of the
	// lookaside allocator meant for short-lived ones.
	const int rc = sqlite3_prepare_v3(_db, _sql.data(), static_cast<int>(_sql.size()), SQLITE_PREPARE_PERSISTENT,
									  &_statement, &tail);
	if (rc != SQLITE_OK)
		fail(rc, "cannot prepare");
	if (!_statement || (tail && std::string_view(tail).find_first_not_of(" \t\r\n") != std::string_view::npos))
	{
		sqlite3_finalize(_statement);
		throw Poco::Data::SQLite::InvalidSQLStatementException("expected exactly one SQL statement", _sql);
	}
}

SqliteStatement::~SqliteStatement()
{
	sqlite3_finalize(_statement);
}

void SqliteStatement::bindBlob(int index, const void* data, size_t size)
{
	if (size > static_cast<size_t>(INT_MAX))
		throw Poco::Data::SQLite::RowTooBigException("blob of " + std::to_string(size) + " bytes", _sql);
	// sqlite3_bind_blob() with a null pointer binds NULL, not an empty blob: an empty vector's
	// data() may be null, and the NOT NULL answer column would refuse it.
	static const uint8_t empty = 0;
	const int rc = sqlite3_bind_blob(_statement, index, size ? data : &empty, static_cast<int>(size), SQLITE_STATIC);
	if (rc != SQLITE_OK)
		fail(rc, "cannot bind parameter " + std::to_string(index));
}

void SqliteStatement::bindInt64(int index, int64_t value)
{
	const int rc = sqlite3_bind_int64(_statement, index, static_cast<sqlite3_int64>(value));
	if (rc != SQLITE_OK)
		fail(rc, "cannot bind parameter " + std::to_string(index));
}

size_t SqliteStatement::execute()
{
	ResetOnExit reset(*this);
	while (step())
	{
		// A write statement returns no rows; a RETURNING clause would, and is not ours to read.
	}
	return static_cast<size_t>(sqlite3_changes(_db));
}

bool SqliteStatement::step()
{
	const int rc = sqlite3_step(_statement);
	if (rc == SQLITE_ROW)
		return true;
	if (rc == SQLITE_DONE)
		return false;
	fail(rc, "cannot execute");
}

void SqliteStatement::reset() noexcept
{
	// sqlite3_reset() repeats the error of a failed step; step() has thrown it already.
	sqlite3_reset(_statement);
	sqlite3_clear_bindings(_statement);
}

const uint8_t* SqliteStatement::columnBlob(int index) const
{
	return static_cast<const uint8_t*>(sqlite3_column_blob(_statement, index));
}

size_t SqliteStatement::columnBytes(int index) const
{
	return static_cast<size_t>(sqlite3_column_bytes(_statement, index));
}

int64_t SqliteStatement::columnInt64(int index) const
{
	return static_cast<int64_t>(sqlite3_column_int64(_statement, index));
}

void SqliteStatement::fail(int rc, const std::string& what) const
{
	// POCO maps primary result codes only; an extended code (SQLITE_IOERR_WRITE, ...) carries
	// its primary code in the low byte.
	Poco::Data::SQLite::Utility::throwException(_db, rc & 0xff, what + ": " + _sql);
	// throwException() returns for codes it does not consider errors (never passed here).
	throw Poco::Data::SQLite::SQLiteException("unexpected SQLite result " + std::to_string(rc), _sql);
}

} // namespace dnsproxy::storage
