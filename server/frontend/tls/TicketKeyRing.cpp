// TicketKeyRing.cpp - session ticket keys outside the SSL_CTX, rotated lazily on an injected clock.
#include "frontend/tls/TicketKeyRing.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace dnsproxy::frontend::tls
{

namespace
{

/// The SSL_CTX ex_data slot that points back at the ring (one slot for the process).
int ringIndex()
{
	static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
	return index;
}

// Callback results of SSL_CTX_set_tlsext_ticket_key_evp_cb (OpenSSL 3 manual page).
constexpr int TICKET_ERROR = -1;
constexpr int TICKET_UNKNOWN_KEY = 0;
constexpr int TICKET_OK = 1;
constexpr int TICKET_OK_RENEW = 2;

} // namespace

TicketKeyRing::TicketKeyRing(TlsClock clock):
	_clock(clock ? std::move(clock) : TlsClock([] { return std::chrono::steady_clock::now(); }))
{
	std::lock_guard<std::mutex> lock(_mutex);
	_current = makeKey();
	_currentMadeAt = _clock();
	_generations = 1;
}

TicketKeyRing::~TicketKeyRing()
{
	wipe(_current);
	if (_previous)
		wipe(*_previous);
}

void TicketKeyRing::install(SSL_CTX* ctx)
{
	if (ringIndex() < 0 || SSL_CTX_set_ex_data(ctx, ringIndex(), this) != 1 ||
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &TicketKeyRing::callback) != 1)
		throw std::runtime_error("cannot install the session ticket key callback");
}

void TicketKeyRing::rotateIfDue()
{
	std::lock_guard<std::mutex> lock(_mutex);
	rotateLocked();
}

uint64_t TicketKeyRing::generations() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _generations;
}

void TicketKeyRing::rotateLocked()
{
	const auto now = _clock();
	if (now - _currentMadeAt < TICKET_KEY_ROTATION)
		return;
	// Periods are counted from the first key, not from the moment of use, so a key never
	// decrypts for more than two periods after it started encrypting.
	const auto periods = (now - _currentMadeAt) / TICKET_KEY_ROTATION;
	if (_previous)
		wipe(*_previous);
	if (periods >= 2)
	{
		wipe(_current);
		_previous.reset();
	}
	else
		_previous = _current;
	_current = makeKey();
	_currentMadeAt += periods * TICKET_KEY_ROTATION;
	++_generations;
}

TicketKeyRing::Key TicketKeyRing::makeKey()
{
	Key key;
	if (RAND_bytes(key.name.data(), static_cast<int>(key.name.size())) != 1 ||
		RAND_bytes(key.aesKey.data(), static_cast<int>(key.aesKey.size())) != 1 ||
		RAND_bytes(key.hmacKey.data(), static_cast<int>(key.hmacKey.size())) != 1)
		throw std::runtime_error("no randomness for a session ticket key");
	return key;
}

void TicketKeyRing::wipe(Key& key)
{
	OPENSSL_cleanse(key.aesKey.data(), key.aesKey.size());
	OPENSSL_cleanse(key.hmacKey.data(), key.hmacKey.size());
}

bool TicketKeyRing::setMacKey(EVP_MAC_CTX* mac, const Key& key)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key.hmacKey.data()),
										  key.hmacKey.size()),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_CTX_set_params(mac, params) == 1;
}

int TicketKeyRing::callback(SSL* ssl, unsigned char keyName[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
							EVP_MAC_CTX* mac, int encrypt)
{
	auto* ring = static_cast<TicketKeyRing*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ringIndex()));
	if (!ring)
		return TICKET_ERROR;
	try
	{
		return encrypt ? ring->encrypt(keyName, iv, cipher, mac) : ring->decrypt(keyName, iv, cipher, mac);
	}
	catch (const std::exception&)
	{
		// No randomness for a new key: OpenSSL then sends no ticket / does a full handshake.
		return TICKET_ERROR;
	}
}

int TicketKeyRing::encrypt(unsigned char keyName[16], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac)
{
	const EVP_CIPHER* aes = EVP_aes_256_cbc();
	if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes)) != 1)
		return TICKET_ERROR;
	std::lock_guard<std::mutex> lock(_mutex);
	rotateLocked();
	std::memcpy(keyName, _current.name.data(), _current.name.size());
	if (EVP_EncryptInit_ex(cipher, aes, nullptr, _current.aesKey.data(), iv) != 1 || !setMacKey(mac, _current))
		return TICKET_ERROR;
	return TICKET_OK;
}

int TicketKeyRing::decrypt(const unsigned char keyName[16], const unsigned char* iv, EVP_CIPHER_CTX* cipher,
						   EVP_MAC_CTX* mac)
{
	std::lock_guard<std::mutex> lock(_mutex);
	rotateLocked();
	const Key* key = nullptr;
	int result = TICKET_OK;
	if (std::memcmp(keyName, _current.name.data(), _current.name.size()) == 0)
		key = &_current;
	else if (_previous && std::memcmp(keyName, _previous->name.data(), _previous->name.size()) == 0)
	{
		key = &*_previous;
		result = TICKET_OK_RENEW;
	}
	if (!key)
		return TICKET_UNKNOWN_KEY;
	if (!setMacKey(mac, *key) || EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aesKey.data(), iv) != 1)
		return TICKET_ERROR;
	return result;
}

} // namespace dnsproxy::frontend::tls
