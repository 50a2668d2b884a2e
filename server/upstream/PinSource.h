// PinSource.h - what the upstream side asks about certificate pins and TLS history (SPEC section 5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnsproxy::upstream
{

/// What a TLS handshake showed about the server: the SPKI SHA-256 digest (base64) and notAfter
/// (unix seconds) of every certificate the server presented, leaf first, and whether the chain
/// verified against the CA file and the leaf matched the auth-name.
struct PeerChain
{
	std::vector<std::string> spkiSha256; ///< base64 of SHA-256(DER SubjectPublicKeyInfo), leaf first
	std::vector<int64_t> notAfter;       ///< same order
	bool chainVerified = false;
	bool nameMatched = false;

	bool authenticated() const
	{
		return chainVerified && nameMatched;
	}
	bool contains(const std::string& digest) const;
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
	/// enforce policy, a name that has stored keys only accepts a chain containing one of them.
	/// `reason` says why when the answer is false (expected and seen digests).
	virtual bool accept(const std::string& name, const PeerChain& chain, std::string& reason) = 0;

	/// An authenticated connection to `name` was established with this chain: learn it.
	virtual void verified(const std::string& name, const PeerChain& chain) = 0;

	/// Downgrade protection: true once `name` has been seen speaking TLS (it then never gets clear text).
	virtual bool hasSpokenTls(const std::string& name) = 0;
	virtual void spokeTls(const std::string& name) = 0;
};

} // namespace dnsproxy::upstream
