// TokenAuth.h - bearer-token check for the mutating admin endpoints (SPEC section 6).
#pragma once

#include <string>

namespace dnsproxy::admin
{

/// Checks an `Authorization: Bearer <token>` header against the configured admin token.
/// With no token configured every mutating request is forbidden (403), so an admin port that
/// was opened by accident cannot change anything. The comparison hashes both sides with
/// SHA-256 and compares the digests in constant time, so neither the token's content nor its
/// length leaks through timing. Immutable after construction; safe from any thread.
class TokenAuth
{
public:
	enum class Verdict
	{
		ALLOWED,
		MISSING,       ///< no Authorization header, or not a Bearer one -> 401
		WRONG,         ///< a Bearer token that does not match -> 401
		NOT_CONFIGURED ///< no token is configured -> 403
	};

	/// `configuredAt` names the setting that holds the token (the app passes the INI key), for the
	/// answer that tells a user how to allow changes.
	explicit TokenAuth(std::string token, std::string configuredAt = {});

	const std::string& configuredAt() const
	{
		return _configuredAt;
	}

	Verdict check(const std::string& authorizationHeader) const;

	/// Equal lengths and bytes, in time that depends only on the lengths of the digests.
	static bool constantTimeEquals(const std::string& a, const std::string& b);

private:
	std::string _tokenDigest; ///< SHA-256 of the configured token; empty when none is configured
	std::string _configuredAt;
};

} // namespace dnsproxy::admin
