// PinStore.cpp - SQL of the pins and tls_seen tables.
#include "storage/PinStore.h"

#include "storage/Database.h"

#include <set>

using namespace Poco::Data::Keywords;

namespace dnsproxy::storage
{

namespace
{

Poco::Int64 countPins(Poco::Data::Session& session, std::string name)
{
	Poco::Int64 rows = 0;
	session << "SELECT COUNT(*) FROM pins WHERE name = ?", use(name), into(rows), now;
	return rows;
}

std::optional<std::string> sourceOf(Poco::Data::Session& session, std::string name, std::string sha256)
{
	std::vector<std::string> sources;
	session << "SELECT source FROM pins WHERE name = ? AND sha256 = ?", use(name), use(sha256), into(sources), now;
	if (sources.empty())
		return std::nullopt;
	return sources.front();
}

void insertPin(Poco::Data::Session& session, std::string name, std::string sha256, std::string source, Poco::Int64 now_,
			   Poco::Int64 count, std::optional<int64_t> notAfter)
{
	int hasNotAfter = notAfter ? 1 : 0;
	Poco::Int64 notAfterValue = notAfter.value_or(0);
	session << "INSERT INTO pins(name, sha256, source, first_seen, last_seen, count, not_after)"
			   " VALUES(?, ?, ?, ?, ?, ?, CASE WHEN ? = 1 THEN ? ELSE NULL END)",
		use(name), use(sha256), use(source), use(now_), use(now_), use(count), use(hasNotAfter), use(notAfterValue),
		now;
}

void setSource(Poco::Data::Session& session, std::string name, std::string sha256, std::string source)
{
	session << "UPDATE pins SET source = ? WHERE name = ? AND sha256 = ?", use(source), use(name), use(sha256), now;
}

} // namespace

PinStore::PinStore(Database& database):
	_database(database)
{
}

std::vector<PinRow> PinStore::list(const std::optional<std::string>& name) const
{
	std::vector<std::string> names, digests, sources;
	std::vector<Poco::Int64> firstSeen, lastSeen, counts, notAfters;
	std::vector<int> hasNotAfter;
	std::string only = name.value_or("");
	int all = name ? 0 : 1;
	_database.withSession([&](Poco::Data::Session& session) {
		session << "SELECT name, sha256, source, first_seen, last_seen, count, not_after IS NOT NULL,"
				   " COALESCE(not_after, 0) FROM pins WHERE ? = 1 OR name = ? ORDER BY name, first_seen, sha256",
			use(all), use(only), into(names), into(digests), into(sources), into(firstSeen), into(lastSeen),
			into(counts), into(hasNotAfter), into(notAfters), now;
	});
	std::vector<PinRow> rows(names.size());
	for (size_t i = 0; i < rows.size(); ++i)
	{
		rows[i].name = names[i];
		rows[i].sha256 = digests[i];
		rows[i].source = sources[i];
		rows[i].firstSeen = firstSeen[i];
		rows[i].lastSeen = lastSeen[i];
		rows[i].count = counts[i];
		if (hasNotAfter[i])
			rows[i].notAfter = notAfters[i];
	}
	return rows;
}

SeenResult PinStore::recordSeen(const std::string& name, const std::string& sha256, int64_t now_,
								std::optional<int64_t> notAfter)
{
	SeenResult result;
	_database.transaction([&](Poco::Data::Session& session) {
		result.knownName = countPins(session, name) > 0;
		std::optional<std::string> source = sourceOf(session, name, sha256);
		result.newDigest = !source;
		if (!source)
		{
			insertPin(session, name, sha256, PinSource::LEARNED, now_, 1, notAfter);
			result.source = PinSource::LEARNED;
			return;
		}
		result.source = *source;
		std::string n = name, d = sha256;
		Poco::Int64 seen = now_;
		int hasNotAfter = notAfter ? 1 : 0;
		Poco::Int64 notAfterValue = notAfter.value_or(0);
		session << "UPDATE pins SET last_seen = MAX(last_seen, ?), count = count + 1,"
				   " not_after = CASE WHEN ? = 1 THEN ? ELSE not_after END WHERE name = ? AND sha256 = ?",
			use(seen), use(hasNotAfter), use(notAfterValue), use(n), use(d), now;
	});
	return result;
}

std::string PinStore::approve(const std::string& name, const std::string& sha256, int64_t now_)
{
	std::string after = PinSource::APPROVED;
	_database.transaction([&](Poco::Data::Session& session) {
		std::optional<std::string> source = sourceOf(session, name, sha256);
		if (!source)
			insertPin(session, name, sha256, PinSource::APPROVED, now_, 0, std::nullopt);
		else if (*source == PinSource::CONFIG)
			after = PinSource::CONFIG;
		else
			setSource(session, name, sha256, PinSource::APPROVED);
	});
	return after;
}

void PinStore::addConfigured(const std::string& name, const std::string& sha256, int64_t now_)
{
	_database.transaction([&](Poco::Data::Session& session) {
		if (sourceOf(session, name, sha256))
			setSource(session, name, sha256, PinSource::CONFIG);
		else
			insertPin(session, name, sha256, PinSource::CONFIG, now_, 0, std::nullopt);
	});
}

void PinStore::syncConfigured(const std::vector<std::pair<std::string, std::string>>& pins, int64_t now_)
{
	const std::set<std::pair<std::string, std::string>> wanted(pins.begin(), pins.end());
	_database.transaction([&](Poco::Data::Session& session) {
		std::vector<std::string> names, digests;
		std::string config = PinSource::CONFIG;
		session << "SELECT name, sha256 FROM pins WHERE source = ?", use(config), into(names), into(digests), now;
		for (size_t i = 0; i < names.size(); ++i)
		{
			if (wanted.count({names[i], digests[i]}))
				continue;
			std::string n = names[i], d = digests[i];
			session << "DELETE FROM pins WHERE name = ? AND sha256 = ?", use(n), use(d), now;
		}
		for (const auto& [name, sha256] : wanted)
		{
			if (sourceOf(session, name, sha256))
				setSource(session, name, sha256, PinSource::CONFIG);
			else
				insertPin(session, name, sha256, PinSource::CONFIG, now_, 0, std::nullopt);
		}
	});
}

size_t PinStore::forget(const std::string& name)
{
	size_t deleted = 0;
	_database.transaction([&](Poco::Data::Session& session) {
		std::string n = name;
		Poco::Data::Statement erase(session);
		erase << "DELETE FROM pins WHERE name = ? AND source IN ('learned', 'approved')", use(n);
		deleted = erase.execute();
	});
	return deleted;
}

bool PinStore::hasName(const std::string& name) const
{
	return _database.withSession([&](Poco::Data::Session& session) { return countPins(session, name) > 0; });
}

void PinStore::markTlsSeen(const std::string& name, int64_t now_)
{
	std::string n = name;
	Poco::Int64 seen = now_;
	_database.withSession([&](Poco::Data::Session& session) {
		session << "INSERT INTO tls_seen(name, first_seen, last_seen) VALUES(?, ?, ?)"
				   " ON CONFLICT(name) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)",
			use(n), use(seen), use(seen), now;
	});
}

bool PinStore::tlsSeen(const std::string& name) const
{
	std::string n = name;
	Poco::Int64 rows = 0;
	_database.withSession([&](Poco::Data::Session& session) {
		session << "SELECT COUNT(*) FROM tls_seen WHERE name = ?", use(n), into(rows), now;
	});
	return rows > 0;
}

} // namespace dnsproxy::storage
