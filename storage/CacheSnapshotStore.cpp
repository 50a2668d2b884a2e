// CacheSnapshotStore.cpp - batched writes and the start-up read of cache_entries.
#include "storage/CacheSnapshotStore.h"

#include "storage/Database.h"

#include <Poco/Data/LOB.h>

using namespace Poco::Data::Keywords;

namespace dnsproxy::storage
{

namespace
{

Poco::Data::BLOB toBlob(const std::string& bytes)
{
	return Poco::Data::BLOB(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

Poco::Data::BLOB toBlob(const std::vector<uint8_t>& bytes)
{
	return Poco::Data::BLOB(bytes.data(), bytes.size());
}

size_t deleteExpired(Poco::Data::Session& session, int64_t cutoffUnix)
{
	Poco::Int64 cutoff = cutoffUnix;
	Poco::Data::Statement purge(session);
	purge << "DELETE FROM cache_entries WHERE expires_at < ?", use(cutoff);
	return purge.execute();
}

} // namespace

CacheSnapshotStore::CacheSnapshotStore(Database& database):
	_database(database)
{
}

ApplyResult CacheSnapshotStore::apply(bool cleared, const std::vector<CacheRow>& upserts,
									  const std::vector<std::string>& erasedKeys, std::optional<int64_t> purgeBefore)
{
	ApplyResult result;
	_database.transaction([&](Poco::Data::Session& session) {
		if (cleared)
		{
			Poco::Data::Statement clear(session);
			clear << "DELETE FROM cache_entries";
			result.erased += clear.execute();
		}
		if (!erasedKeys.empty())
		{
			// One prepared statement, re-executed per key: Poco binds `key` by reference.
			Poco::Data::BLOB key;
			Poco::Data::Statement erase(session);
			erase << "DELETE FROM cache_entries WHERE key = ?", use(key);
			for (const std::string& erased : erasedKeys)
			{
				key = toBlob(erased);
				result.erased += erase.execute();
			}
		}
		if (!upserts.empty())
		{
			Poco::Data::BLOB key;
			Poco::Data::BLOB answer;
			Poco::Int64 storedAt = 0;
			Poco::Int64 expiresAt = 0;
			Poco::Data::Statement insert(session);
			insert << "INSERT OR REPLACE INTO cache_entries(key, answer, stored_at, expires_at) VALUES(?, ?, ?, ?)",
				use(key), use(answer), use(storedAt), use(expiresAt);
			for (const CacheRow& row : upserts)
			{
				key = toBlob(row.key);
				answer = toBlob(row.answer);
				storedAt = row.storedAt;
				expiresAt = row.expiresAt;
				insert.execute();
				++result.written;
			}
		}
		if (purgeBefore)
			result.purged = deleteExpired(session, *purgeBefore);
	});
	return result;
}

size_t CacheSnapshotStore::purgeExpired(int64_t cutoffUnix)
{
	size_t purged = 0;
	_database.transaction([&](Poco::Data::Session& session) { purged = deleteExpired(session, cutoffUnix); });
	return purged;
}

std::vector<CacheRow> CacheSnapshotStore::loadAll(int64_t minExpiresAt) const
{
	std::vector<Poco::Data::BLOB> keys;
	std::vector<Poco::Data::BLOB> answers;
	std::vector<Poco::Int64> storedAt;
	std::vector<Poco::Int64> expiresAt;
	Poco::Int64 minimum = minExpiresAt;
	_database.withSession([&](Poco::Data::Session& session) {
		session << "SELECT key, answer, stored_at, expires_at FROM cache_entries WHERE expires_at >= ?", use(minimum),
			into(keys), into(answers), into(storedAt), into(expiresAt), now;
	});
	std::vector<CacheRow> rows(keys.size());
	for (size_t i = 0; i < rows.size(); ++i)
	{
		rows[i].key.assign(reinterpret_cast<const char*>(keys[i].rawContent()), keys[i].size());
		rows[i].answer.assign(answers[i].rawContent(), answers[i].rawContent() + answers[i].size());
		rows[i].storedAt = storedAt[i];
		rows[i].expiresAt = expiresAt[i];
	}
	return rows;
}

size_t CacheSnapshotStore::count() const
{
	Poco::Int64 rows = 0;
	_database.withSession(
		[&](Poco::Data::Session& session) { session << "SELECT COUNT(*) FROM cache_entries", into(rows), now; });
	return static_cast<size_t>(rows);
}

} // namespace dnsproxy::storage
