// SelfSignedCertificate.h - the listener certificate made once when no tls_cert_file is configured.
#pragma once

#include <string>

namespace dnsproxy::frontend::tls
{

/// Validity of a self-signed certificate; when it has passed, a new certificate is issued for the
/// same key, so the SPKI pin that clients were given stays valid.
constexpr int SELF_SIGNED_VALIDITY_DAYS = 3650;

/// Keeps one file holding an EC P-256 private key and a self-signed X.509 v3 certificate for it
/// (CN "dnsproxy", SAN DNS:dnsproxy plus the host name when it is a valid DNS name; CA:FALSE,
/// digitalSignature, serverAuth), key first, both PEM. The file is made once, mode 0600, its
/// folder made 0700 when missing, and reused at every start so the pin stays the same.
///
/// Creation is atomic (a temporary file linked into place), so a crash leaves no half file and two
/// processes starting at once end up using the same key. An existing file is never replaced by a
/// new key: a file that cannot be read or parsed is an error for the operator (who may delete it
/// to get a new key and pin); an expired certificate is re-issued with the same key. A file with a
/// wider mode is narrowed to 0600.
///
/// Threading: call from one thread at a time (start and reload).
class SelfSignedCertificate
{
public:
	/// Makes the file if it is missing and renews an expired certificate; throws TlsSetupError
	/// naming the file ("cannot write '<path>': Permission denied").
	static void ensure(const std::string& path);
};

} // namespace dnsproxy::frontend::tls
