// TicketKeyRing.h - our own session ticket keys (RFC 5077, TLS 1.3 PSK tickets), rotated on a clock.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

namespace dnsproxy::frontend::tls
{

/// The clock that drives ticket key rotation; tests pass a fake one.
using TlsClock = std::function<std::chrono::steady_clock::time_point()>;

/// A new ticket key is made every TICKET_KEY_ROTATION; the one before it still decrypts, so a
/// ticket is accepted for at least one and at most two rotation periods after it was issued.
constexpr std::chrono::hours TICKET_KEY_ROTATION{12};

/// Session ticket keys that live outside any SSL_CTX, so that a certificate reload (a new SSL_CTX)
/// does not invalidate tickets clients hold. Tickets are AES-256-CBC encrypted and HMAC-SHA256
/// authenticated (the scheme of RFC 5077 4); each key has a random 16-byte name that the ticket
/// carries. Keys are random, held in memory only (a restart starts a new ring, so old tickets
/// fall back to a full handshake), and wiped when dropped.
///
/// Rotation is lazy: every use looks at the clock and, when TICKET_KEY_ROTATION has passed since
/// the current key was made, makes a new current key and keeps the old one for decryption only;
/// after two periods without use both are replaced. A ticket under the previous key is accepted
/// and the client gets a fresh one (callback result 2).
///
/// Threading: thread-safe; one mutex guards the keys (held for a few microseconds once per
/// handshake that issues or presents a ticket).
class TicketKeyRing
{
public:
	explicit TicketKeyRing(TlsClock clock);
	~TicketKeyRing();
	TicketKeyRing(const TicketKeyRing&) = delete;
	TicketKeyRing& operator=(const TicketKeyRing&) = delete;

	/// Makes `ctx` encrypt and decrypt its tickets with this ring. The ring must outlive `ctx`
	/// (TlsServerContext ties their lifetimes through the SSL_CTX's shared_ptr deleter).
	void install(SSL_CTX* ctx);

	/// Rotates now if a period has passed (also done by every ticket operation); for tests and
	/// for a timer that wants keys replaced even without traffic.
	void rotateIfDue();

	/// How many keys were made so far (the first included); for tests and stats.
	uint64_t generations() const;

private:
	struct Key
	{
		std::array<unsigned char, 16> name;
		std::array<unsigned char, 32> aesKey;
		std::array<unsigned char, 32> hmacKey;
	};

	static int callback(SSL* ssl, unsigned char keyName[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
						EVP_MAC_CTX* mac, int encrypt);
	int encrypt(unsigned char keyName[16], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);
	int decrypt(const unsigned char keyName[16], const unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);
	void rotateLocked();
	static Key makeKey();
	static void wipe(Key& key);
	static bool setMacKey(EVP_MAC_CTX* mac, const Key& key);

	TlsClock _clock;
	mutable std::mutex _mutex;
	Key _current{};
	std::optional<Key> _previous;
	std::chrono::steady_clock::time_point _currentMadeAt;
	uint64_t _generations = 0;
};

} // namespace dnsproxy::frontend::tls
