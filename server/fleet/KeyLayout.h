// KeyLayout.h - the names of everything the fleet keeps in Redis, and the pin channel's messages.
#pragma once

#include <optional>
#include <string>

namespace dnsproxy::fleet
{

/// One change to the shared pin store, as published on the pin channel.
struct PinEvent
{
	enum class Kind
	{
		LEARNED,  ///< a proxy recorded a digest on a verified connection (trust on first use)
		APPROVED, ///< an operator approved a digest through POST /pins
		FORGOTTEN ///< an operator forgot a name's learned and approved digests (sha256 empty)
	};

	Kind kind = Kind::LEARNED;
	std::string name;   ///< auth-name, lower case
	std::string sha256; ///< base64 SPKI SHA-256; empty for FORGOTTEN
	std::string origin; ///< the publishing proxy's id, so it can skip its own messages
};

/// Key layout, all under the configured keyPrefix P (default "dnsproxy:"):
///
///   P cache:<hex of the binary CacheKey>   string: the wire answer (ID 0), PX = its TTL
///   P pins:<auth-name>                     hash: base64 digest -> "learned" | "approved"
///   P pins                                 pub/sub channel of PinEvent messages
///
/// The cache key is hex so keys stay printable in redis-cli and SCAN patterns. A pin message is
/// one line of space-separated words, "<origin> <learned|approved|forgotten> <name> [<digest>]";
/// none of the words can contain a space (DNS names, base64, hex ids). With a fleet secret the
/// cache value is an Envelope around the answer, and pin messages and hash values carry an
/// Envelope tag after these words (PinChannel); encode() and decode() see the words only.
///
/// Stateless apart from the prefix; safe from any thread.
class KeyLayout
{
public:
	explicit KeyLayout(std::string prefix);

	std::string cacheKey(const std::string& binaryKey) const;
	std::string pinsKey(const std::string& name) const;
	/// SCAN MATCH pattern for every pins key (glob characters of the prefix escaped).
	std::string pinsPattern() const;
	/// The auth-name of a pins key; nullopt for any other key.
	std::optional<std::string> nameOfPinsKey(const std::string& key) const;
	std::string pinsChannel() const;

	static std::string encode(const PinEvent& event);
	/// nullopt for anything that is not a well-formed message (ignored, counted by the caller).
	static std::optional<PinEvent> decode(const std::string& message);
	static const char* kindName(PinEvent::Kind kind);

	const std::string& prefix() const
	{
		return _prefix;
	}

private:
	std::string _prefix;
};

} // namespace dnsproxy::fleet
