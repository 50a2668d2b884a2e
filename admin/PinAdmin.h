// PinAdmin.h - the pin store as the admin API sees it: list, approve a digest, forget a name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::admin
{

/// One SPKI SHA-256 digest recorded for an auth-name (SPEC section 5).
struct PinRecord
{
	std::string name;      ///< auth-name, e.g. "cloudflare-dns.com"
	std::string sha256;    ///< base64 of the 32-byte SPKI digest
	std::string source;    ///< "config", "learned" or "approved"
	int64_t firstSeen = 0; ///< unix seconds; 0 = never seen on a connection
	int64_t lastSeen = 0;  ///< unix seconds
	uint64_t count = 0;    ///< verified connections that presented it
	int64_t notAfter = 0;  ///< unix seconds the certificate expires; 0 = unknown
};

/// Implemented by app/ over storage::PinStore. Called from admin worker threads; implementations
/// serialise with the TLS side through the store's own locking.
class PinAdmin
{
public:
	virtual ~PinAdmin() = default;
	/// Every digest, or those of one name.
	virtual std::vector<PinRecord> list(const std::optional<std::string>& name) const = 0;
	/// Accepts `sha256` (base64, validated by the caller) for `name` from now on.
	virtual void approve(const std::string& name, const std::string& sha256, int64_t now) = 0;
	/// Forgets the learned and approved digests of `name`; returns how many were removed.
	virtual size_t forget(const std::string& name) = 0;
};

} // namespace dnsproxy::admin
