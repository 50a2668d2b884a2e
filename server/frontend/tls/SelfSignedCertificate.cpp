// SelfSignedCertificate.cpp - making, keeping and renewing the self-signed listener certificate.
#include "frontend/tls/SelfSignedCertificate.h"

#include "frontend/tls/CertificatePair.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace dnsproxy::frontend::tls
{

namespace
{

const std::string NAME = "self-signed certificate";
const char* const COMMON_NAME = "dnsproxy";
constexpr long SKEW_SECONDS = 24 * 3600; ///< notBefore lies this far back, for clients with slow clocks

std::string writeFailure(const std::string& path, const std::string& reason)
{
	return NAME + ": cannot write '" + path + "': " + reason;
}

/// The host name when it can stand in a DNS SAN (letters, digits, '-', '.'), lower-cased.
std::string hostNameForSan()
{
	char host[256] = "";
	if (::gethostname(host, sizeof host - 1) != 0)
		return {};
	std::string name(host);
	if (name.empty() || name.size() > 253 || name.front() == '-' || name.front() == '.' || name == COMMON_NAME)
		return {};
	for (char& c : name)
	{
		if (c >= 'A' && c <= 'Z')
			c = static_cast<char>(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return {};
	}
	return name;
}

void addExtension(X509* cert, int nid, const std::string& value)
{
	X509V3_CTX context;
	X509V3_set_ctx_nodb(&context);
	X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
	X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
	const bool added = extension && X509_add_ext(cert, extension, -1) == 1;
	X509_EXTENSION_free(extension);
	if (!added)
		throw TlsSetupError(NAME + ": cannot build the certificate: " + openSslReason("extension " + value));
}

/// A random positive 128-bit serial (RFC 5280 4.1.2.2 allows up to 20 octets).
void setRandomSerial(X509* cert)
{
	unsigned char bytes[16];
	if (RAND_bytes(bytes, sizeof bytes) != 1)
		throw TlsSetupError(NAME + ": no randomness for a serial number");
	bytes[0] &= 0x7f;
	bytes[0] |= 0x01;
	std::unique_ptr<BIGNUM, void (*)(BIGNUM*)> serial(BN_bin2bn(bytes, sizeof bytes, nullptr), BN_free);
	if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)))
		throw TlsSetupError(NAME + ": cannot build the certificate: " + openSslReason("serial"));
}

X509Ptr issue(EVP_PKEY* key)
{
	X509Ptr cert(X509_new());
	if (!cert || X509_set_version(cert.get(), 2) != 1)
		throw TlsSetupError(NAME + ": cannot build the certificate: out of memory");
	setRandomSerial(cert.get());
	X509_gmtime_adj(X509_getm_notBefore(cert.get()), -SKEW_SECONDS);
	X509_time_adj_ex(X509_getm_notAfter(cert.get()), SELF_SIGNED_VALIDITY_DAYS, 0, nullptr);
	X509_NAME* subject = X509_get_subject_name(cert.get());
	X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(COMMON_NAME), -1, -1,
							   0);
	X509_set_issuer_name(cert.get(), subject);
	X509_set_pubkey(cert.get(), key);
	std::string sans = std::string("DNS:") + COMMON_NAME;
	const std::string host = hostNameForSan();
	if (!host.empty())
		sans += ",DNS:" + host;
	addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
	addExtension(cert.get(), NID_key_usage, "critical,digitalSignature");
	addExtension(cert.get(), NID_ext_key_usage, "serverAuth");
	addExtension(cert.get(), NID_subject_key_identifier, "hash");
	addExtension(cert.get(), NID_subject_alt_name, sans);
	if (X509_sign(cert.get(), key, EVP_sha256()) <= 0)
		throw TlsSetupError(NAME + ": cannot sign the certificate: " + openSslReason("unknown"));
	return cert;
}

std::string toPem(EVP_PKEY* key, X509* cert)
{
	BioPtr bio(BIO_new(BIO_s_mem()));
	if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
		PEM_write_bio_X509(bio.get(), cert) != 1)
		throw TlsSetupError(NAME + ": cannot encode the key: " + openSslReason("unknown"));
	char* data = nullptr;
	const long length = BIO_get_mem_data(bio.get(), &data);
	return std::string(data, static_cast<size_t>(length));
}

std::string parentOf(const std::string& path)
{
	const size_t slash = path.find_last_of('/');
	if (slash == std::string::npos)
		return ".";
	return slash == 0 ? "/" : path.substr(0, slash);
}

/// mkdir -p, each folder it makes mode 0700 (the key is for the proxy's user only, SPEC 6).
void makeFolders(const std::string& folder, const std::string& path)
{
	for (size_t end = folder.find('/', 1);; end = folder.find('/', end + 1))
	{
		const std::string prefix = folder.substr(0, end);
		if (!prefix.empty() && ::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
			throw TlsSetupError(writeFailure(path, std::strerror(errno)));
		if (end == std::string::npos)
			break;
	}
}

/// Writes `content` to a temporary file beside `path` (mode 0600), syncs it, then links it into
/// place (`replace` false: an existing file wins, so concurrent starts agree on one key) or
/// renames it over `path` (`replace` true).
void writeAtomically(const std::string& path, const std::string& content, bool replace)
{
	const std::string folder = parentOf(path);
	makeFolders(folder, path);
	std::vector<char> temporary(path.begin(), path.end());
	const std::string suffix = ".tmp.XXXXXX";
	temporary.insert(temporary.end(), suffix.begin(), suffix.end());
	temporary.push_back('\0');
	const int fd = ::mkstemp(temporary.data());
	if (fd < 0)
		throw TlsSetupError(writeFailure(path, std::strerror(errno)));
	size_t written = 0;
	bool ok = ::fchmod(fd, 0600) == 0;
	while (ok && written < content.size())
	{
		const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
		ok = n > 0 || (n < 0 && errno == EINTR);
		written += n > 0 ? static_cast<size_t>(n) : 0;
	}
	ok = ok && ::fsync(fd) == 0;
	const int savedErrno = errno;
	::close(fd);
	if (ok && replace)
		ok = ::rename(temporary.data(), path.c_str()) == 0;
	else if (ok)
		ok = ::link(temporary.data(), path.c_str()) == 0 || errno == EEXIST;
	const int error = ok ? 0 : (errno ? errno : savedErrno);
	::unlink(temporary.data());
	if (!ok)
		throw TlsSetupError(writeFailure(path, std::strerror(error)));
	const int dirFd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirFd >= 0)
	{
		::fsync(dirFd); // best effort: the entry survives a power cut
		::close(dirFd);
	}
}

} // namespace

void SelfSignedCertificate::ensure(const std::string& path)
{
	struct stat st = {};
	if (::stat(path.c_str(), &st) != 0)
	{
		if (errno != ENOENT)
			throw TlsSetupError(NAME + ": cannot read '" + path + "': " + std::strerror(errno));
		EvpPkeyPtr key(EVP_EC_gen("P-256"));
		if (!key)
			throw TlsSetupError(NAME + ": cannot make an EC P-256 key: " + openSslReason("unknown"));
		const X509Ptr cert = issue(key.get());
		writeAtomically(path, toPem(key.get(), cert.get()), false);
		ERR_clear_error();
		return;
	}
	if ((st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0600) != 0)
		throw TlsSetupError(NAME + ": cannot make '" + path + "' private (mode 0600): " + std::strerror(errno));
	const CertificatePair existing = CertificatePair::load(path, path, NAME, NAME);
	if (existing.expired())
	{
		const X509Ptr renewed = issue(existing.key());
		writeAtomically(path, toPem(existing.key(), renewed.get()), true);
	}
	ERR_clear_error();
}

} // namespace dnsproxy::frontend::tls
