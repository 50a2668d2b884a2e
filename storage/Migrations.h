// Migrations.h - numbered, forward-only schema migrations of the dnsproxy database.
#pragma once

#include <Poco/Data/Session.h>

#include <string>
#include <vector>

namespace dnsproxy::storage
{

/// One schema step. Steps are never edited once released: a change is a new step.
struct Migration
{
	int version = 0;
	std::string description;
	std::vector<std::string> statements;
};

/// The schema lives in code: `schema_version(version, description, applied_at)` records every step
/// applied, each step runs in its own transaction together with its schema_version row, so an
/// interrupted upgrade is simply re-run on the next start. Re-opening an up-to-date file changes
/// nothing. A file whose version is newer than this binary knows is refused (StorageError), rather
/// than used with a schema it does not understand.
///
/// v1: cache_entries (the write-behind cache snapshot, wire answers as blobs, absolute times),
/// pins (SPKI SHA-256 digests per auth-name and their source), tls_seen (servers that have spoken
/// TLS, for downgrade protection, SPEC section 5).
///
/// Threading: called by Database with its session, under its mutex.
class Migrations
{
public:
	static const std::vector<Migration>& all();
	static int latestVersion();
	/// 0 for a new file.
	static int currentVersion(Poco::Data::Session& session);
	/// Applies every missing step; returns how many were applied.
	static int apply(Poco::Data::Session& session);
};

} // namespace dnsproxy::storage
