// CertificatePair.h - a PEM certificate chain and its private key, read from files and checked.
#pragma once

#include "frontend/tls/OpenSslPtr.h"
#include "frontend/tls/TlsSetupError.h"

#include <sys/types.h>

#include <ctime>
#include <optional>
#include <string>

namespace dnsproxy::frontend::tls
{

/// Identity of a file's content as stat() shows it; a renewal (certbot writes new files and moves
/// symlinks) changes at least one field.
struct FileStamp
{
	dev_t device = 0;
	ino_t inode = 0;
	off_t size = 0;
	timespec modified{};

	bool operator==(const FileStamp& other) const;
	bool operator!=(const FileStamp& other) const
	{
		return !(*this == other);
	}
	/// stat() of `path` (following symlinks); nullopt if it cannot be stat()ed.
	static std::optional<FileStamp> of(const std::string& path);
};

/// A leaf certificate, the certificates after it in the same file (its chain, sent to clients as
/// is) and the private key, which is checked to belong to the leaf. The two paths may be the same
/// file holding both (the self-signed file does). Encrypted keys are not supported.
///
/// A file that changes while it is read (a renewal in progress) is refused as such, so a caller
/// that retries later gets a consistent pair. Immutable after load; safe to share between threads.
class CertificatePair
{
public:
	/// Configuration keys named in error messages.
	static constexpr const char* CERT_KEY = "server.tls_cert_file";
	static constexpr const char* KEY_KEY = "server.tls_key_file";

	/// Reads and checks both files; throws TlsSetupError naming `certName`/`keyName` (the config
	/// keys), the file and the reason: unreadable, no or bad PEM, key not matching the leaf.
	static CertificatePair load(const std::string& certFile, const std::string& keyFile,
								const std::string& certName = CERT_KEY, const std::string& keyName = KEY_KEY);

	X509* leaf() const
	{
		return _leaf.get();
	}
	/// The certificates after the leaf, possibly empty.
	STACK_OF(X509) * chain() const
	{
		return _chain.get();
	}
	EVP_PKEY* key() const
	{
		return _key.get();
	}
	const std::string& certFile() const
	{
		return _certFile;
	}
	const std::string& keyFile() const
	{
		return _keyFile;
	}
	/// Stamps of the files as they were when read.
	const FileStamp& certStamp() const
	{
		return _certStamp;
	}
	const FileStamp& keyStamp() const
	{
		return _keyStamp;
	}
	/// base64(SHA-256(DER SubjectPublicKeyInfo)) of the leaf (RFC 7858 4.2, kdig +tls-pin).
	std::string spkiPin() const;
	/// One line: "CN=... SAN=DNS:a,IP:b notAfter=2030-01-01T00:00:00Z chain=N file=..." (plus
	/// " EXPIRED" when the leaf is past notAfter).
	std::string describe() const;
	/// Is the leaf past its notAfter (wall clock)?
	bool expired() const;

private:
	CertificatePair() = default;

	X509Ptr _leaf;
	X509StackPtr _chain;
	EvpPkeyPtr _key;
	std::string _certFile;
	std::string _keyFile;
	FileStamp _certStamp;
	FileStamp _keyStamp;
};


/// The reason of the newest error on this thread's OpenSSL error queue, or `fallback`.
std::string openSslReason(const std::string& fallback);

} // namespace dnsproxy::frontend::tls
