// CertificatePair.cpp - reading a PEM chain and key from files, checking them, describing the leaf.
#include "frontend/tls/CertificatePair.h"

#include "common/SpkiPin.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace dnsproxy::frontend::tls
{

namespace
{

/// A certificate or key file larger than this is not one (a chain of ten 4 KiB certificates
/// is 40 KiB).
constexpr off_t MAX_PEM_FILE_BYTES = 1 << 20;

FileStamp stampOf(const struct stat& st)
{
	FileStamp stamp;
	stamp.device = st.st_dev;
	stamp.inode = st.st_ino;
	stamp.size = st.st_size;
	stamp.modified = st.st_mtim;
	return stamp;
}

std::string failure(const std::string& name, const std::string& what, const std::string& path,
					const std::string& reason)
{
	return name + ": " + what + " '" + path + "': " + reason;
}

/// Closes a file descriptor when it goes out of scope.
struct FileDescriptor
{
	int fd;
	~FileDescriptor()
	{
		if (fd >= 0)
			::close(fd);
	}
};

/// The whole file and the stamp of what was read; refuses a file that changed while read.
std::string readFile(const std::string& path, const std::string& name, FileStamp& stamp)
{
	const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
	struct stat before = {};
	if (file.fd < 0 || ::fstat(file.fd, &before) != 0)
		throw TlsSetupError(failure(name, "cannot read", path, std::strerror(errno)));
	if (!S_ISREG(before.st_mode))
		throw TlsSetupError(failure(name, "cannot read", path, "not a regular file"));
	if (before.st_size > MAX_PEM_FILE_BYTES)
		throw TlsSetupError(failure(name, "cannot read", path, "larger than 1 MiB"));
	// One byte more than stat() said, to notice a file that grows while it is read.
	std::string content(static_cast<size_t>(before.st_size) + 1, '\0');
	size_t total = 0;
	while (total < content.size())
	{
		const ssize_t n = ::read(file.fd, content.data() + total, content.size() - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw TlsSetupError(failure(name, "cannot read", path, std::strerror(errno)));
		if (n == 0)
			break;
		total += static_cast<size_t>(n);
	}
	struct stat after = {};
	if (::fstat(file.fd, &after) != 0 || stampOf(after) != stampOf(before) ||
		total != static_cast<size_t>(before.st_size))
		throw TlsSetupError(failure(name, "cannot read", path, "the file changed while it was read"));
	content.resize(total);
	stamp = stampOf(before);
	return content;
}

/// No certificate password prompts: an encrypted key fails to load.
int noPassword(char*, int, int, void*)
{
	return 0;
}

BioPtr memoryBio(const std::string& content)
{
	return BioPtr(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
}

/// Reads the leaf and the certificates after it. A clean end of the data is the only way the
/// loop stops without error: a truncated last certificate (a half-written file) fails.
void readChain(const std::string& content, const std::string& path, const std::string& name, X509Ptr& leaf,
			   X509StackPtr& chain)
{
	BioPtr bio = memoryBio(content);
	leaf.reset(PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr));
	if (!leaf)
		throw TlsSetupError(failure(name, "no PEM certificate in", path, openSslReason("empty file")));
	chain.reset(sk_X509_new_null());
	for (;;)
	{
		ERR_clear_error();
		X509Ptr next(PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr));
		if (!next)
		{
			const unsigned long error = ERR_peek_last_error();
			if (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE)
				break;
			throw TlsSetupError(failure(name, "bad PEM certificate in", path, openSslReason("unreadable")));
		}
		if (!sk_X509_push(chain.get(), next.get()))
			throw TlsSetupError(failure(name, "cannot read", path, "out of memory"));
		next.release();
	}
	ERR_clear_error();
}

std::string asn1TimeText(const ASN1_TIME* time)
{
	struct tm tm = {};
	if (!time || ASN1_TIME_to_tm(time, &tm) != 1)
		return "?";
	char text[32];
	std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return text;
}

std::string commonName(X509* cert)
{
	char cn[256] = "";
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) < 0)
		return "";
	return cn;
}

std::string subjectAltNames(X509* cert)
{
	std::unique_ptr<GENERAL_NAMES, void (*)(GENERAL_NAMES*)> names(
		static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)),
		GENERAL_NAMES_free);
	std::string text;
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i)
	{
		const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
		std::string one;
		if (name->type == GEN_DNS)
			one = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
									   static_cast<size_t>(ASN1_STRING_length(name->d.dNSName)));
		else if (name->type == GEN_IPADD)
		{
			char address[INET6_ADDRSTRLEN] = "";
			const int length = ASN1_STRING_length(name->d.iPAddress);
			const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
			if (family && inet_ntop(family, ASN1_STRING_get0_data(name->d.iPAddress), address, sizeof address))
				one = std::string("IP:") + address;
		}
		if (!one.empty())
			text += (text.empty() ? "" : ",") + one;
	}
	return text;
}

} // namespace

bool FileStamp::operator==(const FileStamp& other) const
{
	return device == other.device && inode == other.inode && size == other.size &&
		   modified.tv_sec == other.modified.tv_sec && modified.tv_nsec == other.modified.tv_nsec;
}

std::optional<FileStamp> FileStamp::of(const std::string& path)
{
	struct stat st = {};
	if (::stat(path.c_str(), &st) != 0)
		return std::nullopt;
	return stampOf(st);
}

std::string openSslReason(const std::string& fallback)
{
	const unsigned long error = ERR_peek_last_error();
	if (error == 0)
		return fallback;
	const char* reason = ERR_reason_error_string(error);
	return reason ? reason : fallback;
}

CertificatePair CertificatePair::load(const std::string& certFile, const std::string& keyFile,
									  const std::string& certName, const std::string& keyName)
{
	ERR_clear_error();
	CertificatePair pair;
	pair._certFile = certFile;
	pair._keyFile = keyFile;
	const std::string certPem = readFile(certFile, certName, pair._certStamp);
	const std::string keyPem = keyFile == certFile ? certPem : readFile(keyFile, keyName, pair._keyStamp);
	if (keyFile == certFile)
		pair._keyStamp = pair._certStamp;
	readChain(certPem, certFile, certName, pair._leaf, pair._chain);
	BioPtr bio = memoryBio(keyPem);
	pair._key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr));
	if (!pair._key)
		throw TlsSetupError(failure(keyName, "no PEM private key in", keyFile, openSslReason("empty file")));
	if (X509_check_private_key(pair._leaf.get(), pair._key.get()) != 1)
		throw TlsSetupError(keyName + ": the key in '" + keyFile + "' does not match the certificate in '" + certFile +
							"'");
	ERR_clear_error();
	return pair;
}

std::string CertificatePair::spkiPin() const
{
	return common::spkiPin(_leaf.get());
}

bool CertificatePair::expired() const
{
	return X509_cmp_current_time(X509_get0_notAfter(_leaf.get())) < 0;
}

std::string CertificatePair::describe() const
{
	std::string text = "CN=" + commonName(_leaf.get());
	const std::string sans = subjectAltNames(_leaf.get());
	if (!sans.empty())
		text += " SAN=" + sans;
	text += " notAfter=" + asn1TimeText(X509_get0_notAfter(_leaf.get()));
	text += " chain=" + std::to_string(sk_X509_num(_chain.get()));
	text += " file=" + _certFile;
	if (_keyFile != _certFile)
		text += " key=" + _keyFile;
	if (expired())
		text += " EXPIRED";
	return text;
}

} // namespace dnsproxy::frontend::tls
