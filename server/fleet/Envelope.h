// Envelope.h - HMAC-SHA256 signatures on what the fleet keeps in Redis (SPEC 4b, the fleet secret).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace dnsproxy::fleet
{

/// Signs a value with the fleet's shared secret and checks what comes back. The MAC covers the
/// Redis key (or channel) the value lives under, the content, the time it was signed and its TTL,
/// each length-prefixed, so a value cannot be moved to another key, changed, or kept past its
/// TTL by someone who only has Redis access.
///
/// Two forms:
///  - binary, for cache values: "DPX1", signed-at ms (8 bytes, big endian), TTL s (4), MAC (32),
///    then the content (the wire answer);
///  - text, for pin messages and pin hash values: the tag "<signed-at ms> <ttl s> <base64 MAC>"
///    written after the content, words without spaces.
/// A TTL of 0 never expires (a pin kept in Redis); a value signed more than MAX_SKEW_MS in the
/// future is refused too, so a proxy with a fast clock cannot mint values that live for ever.
///
/// Time is passed in (milliseconds since the epoch): the caller owns the clock.
/// Threading: immutable after construction; safe from any thread.
class Envelope
{
public:
	static constexpr size_t MAC_SIZE = 32;
	static constexpr int64_t MAX_SKEW_MS = 30000;

	enum class Verdict
	{
		OK,
		MALFORMED, ///< not an envelope at all (unsigned, truncated)
		BAD_MAC,   ///< changed, moved to another key, or signed with another secret
		EXPIRED    ///< older than its TTL, or too far in the future
	};

	struct Opened
	{
		std::string content;
		int64_t signedMs = 0;
		uint32_t ttlS = 0;
		std::string mac; ///< raw 32 bytes; identifies the value (ReplayGuard)
	};

	explicit Envelope(std::string secret);

	bool enabled() const
	{
		return !_secret.empty();
	}

	std::string seal(const std::string& key, const std::string& content, int64_t nowMs, uint32_t ttlS) const;
	Verdict open(const std::string& key, const std::string& sealed, int64_t nowMs, Opened& out) const;

	/// The text tag for `content`, to be written after it with one space.
	std::string tag(const std::string& key, const std::string& content, int64_t nowMs, uint32_t ttlS) const;
	/// Checks "<content> <tag>" (split at the last three spaces); `out.content` is the content.
	Verdict openText(const std::string& key, const std::string& text, int64_t nowMs, Opened& out) const;

	static const char* verdictName(Verdict verdict);

private:
	std::string mac(const std::string& key, const std::string& content, int64_t signedMs, uint32_t ttlS) const;
	Verdict check(const std::string& key, Opened& out, int64_t nowMs) const;

	std::string _secret;
};

/// The bytes of base64 `text` (POCO's decoder), nullopt when it is not base64. Used for MACs and
/// for the SPKI digests of remote pin events.
std::optional<std::string> decodeBase64(const std::string& text);

} // namespace dnsproxy::fleet
