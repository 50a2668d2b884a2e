// TlsServerContext.h - the certificate, TLS settings and session tickets of the DoT and DoH listeners.
#pragma once

#include "frontend/tls/AlpnPolicy.h"
#include "frontend/tls/CertificatePair.h"
#include "frontend/tls/TicketKeyRing.h"
#include "frontend/tls/TlsSetupError.h"

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace dnsproxy::frontend::tls
{

/// The files behind the client-facing TLS listeners ([server] tls_cert_file, tls_key_file).
struct TlsServerSettings
{
	std::string certFile;           ///< PEM chain, leaf first; empty together with keyFile = self-signed mode
	std::string keyFile;            ///< PEM private key (may be the same file as certFile)
	std::string selfSignedPath;     ///< self-signed mode: file holding key + cert (see SelfSignedCertificate)
	std::string minVersion = "1.2"; ///< "1.2" or "1.3"
};

/// Session timeout of the server contexts (TLS 1.2 session cache entries and ticket lifetime hint):
/// as long as a ticket key is guaranteed to decrypt.
constexpr long SESSION_TIMEOUT_SECONDS = std::chrono::seconds(TICKET_KEY_ROTATION).count();
/// TLS 1.2 sessions kept by ID for clients without ticket support.
constexpr long SESSION_CACHE_SIZE = 10000;

/// Builds one SSL_CTX per listener kind (Alpn::DOT, Alpn::DOH) from a certificate chain and key,
/// or from a self-signed certificate made once and reused (SelfSignedCertificate), and swaps in new
/// ones when the files change (certbot renewals: reloadIfChanged) or on SIGHUP (reload).
///
/// Every context: TLS 1.2 minimum (or 1.3), ECDHE AEAD suites for TLS 1.2 in server order, the
/// OpenSSL default TLS 1.3 suites, no compression, no renegotiation, partial writes and moving
/// write buffers allowed (what TlsStream needs), buffers released while idle. Session resumption:
/// stateless tickets (TLS 1.2 RFC 5077 and TLS 1.3 PSK) under a TicketKeyRing that belongs to
/// this object, not to a context, so tickets survive reloads; plus the TLS 1.2 session-ID cache
/// of each context (lost on reload). A DoT session does not resume on DoH (distinct session ID
/// contexts). ALPN per kind: see Alpn.
///
/// Threading: all members are thread-safe. context() takes a mutex briefly and returns a
/// reference that keeps that generation's SSL_CTX alive (connections made before a reload go on
/// with the old certificate). Reloads are serialised by a second mutex and build the new contexts
/// without blocking context().
class TlsServerContext
{
public:
	/// Throws TlsSetupError (unreadable file, bad PEM, key not matching cert, cannot write the
	/// self-signed file, bad minVersion). `clock` drives ticket key rotation (default steady_clock).
	explicit TlsServerContext(const TlsServerSettings& settings, TlsClock clock = {});
	~TlsServerContext();
	TlsServerContext(const TlsServerContext&) = delete;
	TlsServerContext& operator=(const TlsServerContext&) = delete;

	/// The current SSL_CTX for a new connection of that listener kind.
	std::shared_ptr<SSL_CTX> context(Alpn kind) const;
	/// base64(SHA-256(DER SubjectPublicKeyInfo)) of the current leaf, as kdig +tls-pin takes it.
	std::string spkiPin() const;
	bool selfSigned() const;
	/// One line for the start log: "CN=... SAN=... notAfter=... chain=N file=..." (self-signed:
	/// prefixed "self-signed "); the pin is not in it (spkiPin()).
	std::string describe() const;

	/// stat()s the cert and key files (device, inode, size, mtime); when they differ from what
	/// was loaded and load cleanly, swaps in new contexts and returns true. A half-written or
	/// mismatching pair keeps the old contexts and returns false (lastError() says why); the same
	/// failing state is not parsed again until a file changes once more. Two stat() calls when
	/// nothing changed. In self-signed mode the file is only read, never made or renewed here.
	bool reloadIfChanged();
	/// SIGHUP: new settings (files may have other names); throws TlsSetupError and keeps the old
	/// contexts on failure.
	void reload(const TlsServerSettings& settings);
	/// Why the last reload failed; empty after a successful load.
	std::string lastError() const;
	/// Rotates the session ticket keys if a period has passed, wiping keys two periods old even
	/// when no handshake came to do it (forward secrecy of old tickets); for a timer, e.g. hourly.
	/// Returns how many ticket keys were made so far (the first included).
	uint64_t rotateTicketKeysIfDue();
	/// Successful loads so far (1 after construction); tells a log line or a test that a swap
	/// happened.
	uint64_t generation() const;

private:
	struct Generation;

	std::shared_ptr<const Generation> build(const TlsServerSettings& settings, bool mayCreate) const;
	std::shared_ptr<SSL_CTX> makeContext(const Generation& generation, Alpn kind, int minVersion) const;
	std::shared_ptr<const Generation> current() const;
	void install(std::shared_ptr<const Generation> generation);

	std::shared_ptr<TicketKeyRing> _tickets;
	std::mutex _reloadMutex; ///< serialises reload() and reloadIfChanged()
	/// The file states of the last failed reloadIfChanged(), not parsed again until they change
	/// (guarded by _reloadMutex).
	std::optional<std::pair<std::optional<FileStamp>, std::optional<FileStamp>>> _failedStamps;
	mutable std::mutex _mutex; ///< guards the members below
	std::shared_ptr<const Generation> _current;
	std::string _lastError;
	uint64_t _generations = 0;
};

} // namespace dnsproxy::frontend::tls
