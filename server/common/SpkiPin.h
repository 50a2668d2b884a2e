// SpkiPin.h - the SPKI pin of a certificate (RFC 7858 4.2), shared by upstream pin checks and the listeners' own pin.
#pragma once

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <string>

namespace dnsproxy::common
{

/// base64(SHA-256(DER SubjectPublicKeyInfo)) of `cert`, the form of `[tls] pins`, the pin store
/// and `kdig +tls-pin`; empty when the key cannot be encoded.
inline std::string spkiPin(X509* cert)
{
	unsigned char* der = nullptr;
	const int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (length <= 0)
		return {};
	unsigned char digest[SHA256_DIGEST_LENGTH];
	SHA256(der, static_cast<size_t>(length), digest);
	OPENSSL_free(der);
	unsigned char encoded[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
	const int written = EVP_EncodeBlock(encoded, digest, SHA256_DIGEST_LENGTH);
	return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(written));
}

} // namespace dnsproxy::common
