// PinStore.h - SPKI SHA-256 pins per auth-name and the servers seen speaking TLS, in SQLite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::storage
{

class Database;

/// Where a pin came from. Stored as text: 'config' (pins in the configuration), 'learned' (seen on a verified
/// connection), 'approved' (an operator approved it through POST /pins).
namespace PinSource
{
inline const std::string CONFIG = "config";
inline const std::string LEARNED = "learned";
inline const std::string APPROVED = "approved";
} // namespace PinSource

/// One row of the pins table.
struct PinRow
{
	std::string name;                ///< auth-name, as configured (compared exactly; callers lower-case it)
	std::string sha256;              ///< base64 of SHA-256(SubjectPublicKeyInfo), 44 characters
	std::string source;              ///< PinSource::CONFIG, LEARNED or APPROVED
	int64_t firstSeen = 0;           ///< unix seconds: inserted
	int64_t lastSeen = 0;            ///< unix seconds: last verified connection presenting it (or insertion)
	int64_t count = 0;               ///< verified connections that presented it
	std::optional<int64_t> notAfter; ///< expiry of the certificate carrying the key, when known
};

/// What recordSeen() found before recording.
struct SeenResult
{
	bool knownName = false; ///< the name already had at least one pin (any source)
	bool newDigest = false; ///< this digest was not stored for the name: with knownName, a key change
	std::string source;     ///< the row's source after recording (a known digest keeps its source)
};

/// The pin store of SPEC section 5: per auth-name, every SPKI digest seen on a verified
/// connection, with first/last seen and count; configured and approved digests; and `tls_seen`,
/// the names that have spoken TLS, which opportunistic mode must never downgrade to clear text.
/// The policy (learn, enforce) is not decided here; this class only records and answers.
///
/// Threading: no state of its own; every call is one statement or one transaction on the
/// Database, which serialises them, so it may be called from upstream connection threads and the
/// admin server at once.
class PinStore
{
public:
	explicit PinStore(Database& database);

	/// Every pin, or those of one name; ordered by name, then first_seen.
	std::vector<PinRow> list(const std::optional<std::string>& name = std::nullopt) const;

	/// A digest seen on a verified connection: inserted as 'learned' with count 1, or its
	/// last_seen, count (and not_after when given) updated, keeping its source.
	SeenResult recordSeen(const std::string& name, const std::string& sha256, int64_t now,
						  std::optional<int64_t> notAfter = std::nullopt);

	/// Operator approval: inserted as 'approved', or a 'learned' row becomes 'approved'. A
	/// 'config' row stays 'config' (it is already trusted). Returns the source after the call.
	std::string approve(const std::string& name, const std::string& sha256, int64_t now);

	/// A pin from the configuration: inserted as 'config', or an existing row becomes 'config'.
	void addConfigured(const std::string& name, const std::string& sha256, int64_t now);

	/// Makes the 'config' rows equal `pins` (name, sha256): adds the missing ones, and deletes
	/// 'config' rows no longer configured, so /pins never shows a pin removed from the INI.
	void syncConfigured(const std::vector<std::pair<std::string, std::string>>& pins, int64_t now);

	/// Deletes the 'learned' and 'approved' pins of `name` (configured pins stay); returns how many.
	/// tls_seen is kept: forgetting a key must not re-enable a clear-text downgrade.
	size_t forget(const std::string& name);

	/// True when the name has at least one pin of any source.
	bool hasName(const std::string& name) const;

	void markTlsSeen(const std::string& name, int64_t now);
	bool tlsSeen(const std::string& name) const;

private:
	Database& _database;
};

} // namespace dnsproxy::storage
