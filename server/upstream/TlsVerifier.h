// TlsVerifier.h - our own certificate check inside the TLS handshake: chain, name, SPKI pins.
#pragma once

#include "upstream/PinSource.h"

#include <Poco/Net/Context.h>

#include <openssl/x509.h>

#include <string>

namespace dnsproxy::upstream
{

/// What one handshake is checked against and what it showed.
struct HandshakeCheck
{
	// Set before the handshake.
	std::string authName;    ///< certificate must match this DNS name (or IP address)
	bool requireAuth = true; ///< strict profile: an unverified chain or wrong name aborts the handshake
	PinSource* pins = nullptr;

	// Filled during the handshake.
	PeerChain chain;
	bool sawCertificate = false; ///< false after a resumed handshake (no certificate is sent)
	bool refusedByPin = false;
	std::string failure; ///< why the chain or name did not verify, or why a pin refused it
};

/// Replaces POCO's verification on a client Context with our own, so strict and opportunistic
/// profiles and pins are decided in one place: OpenSSL verifies the chain against the CA file
/// (strict: the first error aborts; opportunistic: errors are recorded), then, once per handshake,
/// we check the name ourselves (X509_check_host / X509_check_ip_asc), take the signed path of the
/// chain (signedPath) and ask the PinSource. Pins match only keys of that path (RFC 7469 2.6).
///
/// Threading: the handshake of a DotConnection runs synchronously on its own I/O thread; a
/// thread-local pointer set by Scope tells the callback which HandshakeCheck to fill.
class TlsVerifier
{
public:
	static void install(Poco::Net::Context& context);

	/// Makes `check` the target of the verify callback on this thread while it lives.
	class Scope
	{
	public:
		explicit Scope(HandshakeCheck& check);
		~Scope();
		Scope(const Scope&) = delete;
		Scope& operator=(const Scope&) = delete;
	};

	/// The SPKI digests a pin may match: `leaf`'s, then each issuer's in `built` (the chain OpenSSL
	/// built, leaf first) whose key verifies the signature on the certificate below it, up to the
	/// first that does not. The certificates in `sent` (what the server sent) that are not on that
	/// path go to `sentOnly`, for log lines. `chainVerified` is copied into the result.
	static PeerChain signedPath(X509* leaf, STACK_OF(X509) * built, STACK_OF(X509) * sent, bool chainVerified);

	/// base64(SHA-256(DER SubjectPublicKeyInfo)) of a PEM certificate file's first certificate; empty
	/// if unreadable (used by tests and tools; the same value `openssl x509 -pubkey | openssl pkey
	/// -pubin -outform der | openssl dgst -sha256 -binary | base64` prints).
	static std::string spkiSha256OfPemFile(const std::string& path);
};

} // namespace dnsproxy::upstream
