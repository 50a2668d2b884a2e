// Migrations.cpp - the schema steps and how they are applied.
#include "storage/Migrations.h"

#include "storage/Database.h"

#include <ctime>

using namespace Poco::Data::Keywords;

namespace dnsproxy::storage
{

const std::vector<Migration>& Migrations::all()
{
	static const std::vector<Migration> steps = {
		{1,
		 "cache snapshot, pin store, TLS-seen servers",
		 {
			 // key: PacketCache's binary key; answer: wire bytes with the TTLs they had at stored_at.
			 "CREATE TABLE cache_entries ("
			 " key BLOB PRIMARY KEY,"
			 " answer BLOB NOT NULL,"
			 " stored_at INTEGER NOT NULL,"
			 " expires_at INTEGER NOT NULL)",
			 "CREATE INDEX cache_entries_expires_at ON cache_entries(expires_at)",
			 // sha256: base64 of SHA-256(SubjectPublicKeyInfo), RFC 7858 section 4.2 / RFC 7469.
			 "CREATE TABLE pins ("
			 " name TEXT NOT NULL,"
			 " sha256 TEXT NOT NULL,"
			 " source TEXT NOT NULL CHECK(source IN ('config','learned','approved')),"
			 " first_seen INTEGER NOT NULL,"
			 " last_seen INTEGER NOT NULL,"
			 " count INTEGER NOT NULL DEFAULT 0,"
			 " not_after INTEGER,"
			 " PRIMARY KEY(name, sha256))",
			 "CREATE TABLE tls_seen ("
			 " name TEXT PRIMARY KEY,"
			 " first_seen INTEGER,"
			 " last_seen INTEGER)",
		 }},
	};
	return steps;
}

int Migrations::latestVersion()
{
	return all().empty() ? 0 : all().back().version;
}

int Migrations::currentVersion(Poco::Data::Session& session)
{
	int version = 0;
	session << "SELECT COALESCE(MAX(version), 0) FROM schema_version", into(version), now;
	return version;
}

int Migrations::apply(Poco::Data::Session& session)
{
	session << "CREATE TABLE IF NOT EXISTS schema_version ("
			   " version INTEGER PRIMARY KEY,"
			   " description TEXT NOT NULL,"
			   " applied_at INTEGER NOT NULL)",
		now;
	const int current = currentVersion(session);
	if (current > latestVersion())
		throw StorageError("database schema version " + std::to_string(current) +
						   " is newer than this dnsproxy supports (" + std::to_string(latestVersion()) + ")");
	int applied = 0;
	for (const Migration& step : all())
	{
		if (step.version <= current)
			continue;
		session << "BEGIN IMMEDIATE", now;
		try
		{
			for (const std::string& sql : step.statements)
				session << sql, now;
			int version = step.version;
			std::string description = step.description;
			Poco::Int64 appliedAt = static_cast<Poco::Int64>(std::time(nullptr));
			session << "INSERT INTO schema_version(version, description, applied_at) VALUES(?, ?, ?)", use(version),
				use(description), use(appliedAt), now;
			session << "COMMIT", now;
		}
		catch (...)
		{
			session << "ROLLBACK", now;
			throw;
		}
		++applied;
	}
	return applied;
}

} // namespace dnsproxy::storage
