// PinSource.h - what the upstream side asks about certificate pins and TLS history (SPEC section 5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnsproxy::upstream
{

/// What a TLS handshake showed about the server (SPEC section 5, RFC 7469 section 2.6).
///
/// `spkiSha256` is the signed path, and only keys on it may satisfy a pin: the leaf's key (the
/// server proves it holds its private key in the same handshake, which fails after this check
/// otherwise), then the key of each issuer in the chain OpenSSL built that verifies the signature
/// on the certificate below it, up to the first link that does not. A certificate the server
/// merely sent (an appended copy of the real CA or leaf, which anyone can download) is never on
/// it; it is listed in `sentOnly` for log lines only.
struct PeerChain
{
	std::vector<std::string> spkiSha256; ///< base64 of SHA-256(DER SubjectPublicKeyInfo), leaf first
	std::vector<int64_t> notAfter;       ///< unix seconds, same order
	std::vector<std::string> sentOnly;   ///< sent by the server but not on the signed path: never matched
	bool chainVerified = false;          ///< OpenSSL verified the chain against the CA file without any error
	bool nameMatched = false;            ///< the leaf matches the auth-name

	bool authenticated() const
	{
		return chainVerified && nameMatched;
	}
	bool contains(const std::string& digest) const;

	/// The keys that may satisfy a pin of the auth-name: the leaf's always (a pin of the leaf key
	/// names the server's key, whatever its certificate says, e.g. a self-signed server in the
	/// opportunistic profile); an issuer's only when the leaf is for this name, because a CA signs
	/// for many names (the strict profile never gets here without the name).
	std::vector<std::string> pinnableKeys() const;
};

/// The pin policy, implemented outside upstream/ (app/ adapts the SQLite pin store). The upstream
/// side owns this interface so that it never depends on storage.
///
/// Threading: check() runs inside a TLS handshake on a connection's I/O thread and must answer
/// from memory; verified() and the rest may do I/O but are called outside the handshake.
class PinSource
{
public:
	virtual ~PinSource() = default;

	/// Decides whether a chain may be used for `name`: configured pins always apply; with the
	/// enforce policy, a name that has stored keys only accepts a chain whose pinnableKeys() hold
	/// one of them. `reason` says why when the answer is false (expected and seen digests).
	virtual bool accept(const std::string& name, const PeerChain& chain, std::string& reason) = 0;

	/// A connection to `name` was established with this chain after accept() said yes: learn its
	/// leaf key if the chain is authenticated (an unauthenticated chain is never learned).
	virtual void verified(const std::string& name, const PeerChain& chain) = 0;

	/// Downgrade protection: true once `name` has been seen speaking TLS (it then never gets clear text).
	virtual bool hasSpokenTls(const std::string& name) = 0;
	virtual void spokeTls(const std::string& name) = 0;
};

} // namespace dnsproxy::upstream
