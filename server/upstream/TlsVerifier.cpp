// TlsVerifier.cpp - verify callback: chain result, host name, SPKI digests and pins.
#include "upstream/TlsVerifier.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

namespace dnsproxy::upstream
{

namespace
{

thread_local HandshakeCheck* currentCheck = nullptr;

std::string spkiSha256(X509* cert)
{
	unsigned char* der = nullptr;
	int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (length <= 0)
		return {};
	unsigned char digest[SHA256_DIGEST_LENGTH];
	SHA256(der, static_cast<size_t>(length), digest);
	OPENSSL_free(der);
	unsigned char encoded[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
	int n = EVP_EncodeBlock(encoded, digest, SHA256_DIGEST_LENGTH);
	return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(n));
}

int64_t notAfter(X509* cert)
{
	std::tm tm{};
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return 0;
	return static_cast<int64_t>(timegm(&tm));
}

void addCertificate(PeerChain& chain, X509* cert)
{
	std::string digest = spkiSha256(cert);
	if (digest.empty() || chain.contains(digest))
		return;
	chain.spkiSha256.push_back(digest);
	chain.notAfter.push_back(notAfter(cert));
}

bool nameMatches(X509* leaf, const std::string& name)
{
	unsigned char buffer[16];
	bool isIp = inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
	if (isIp)
		return X509_check_ip_asc(leaf, name.c_str(), 0) == 1;
	return X509_check_host(leaf, name.c_str(), name.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
}

int verifyCallback(int preverifyOk, X509_STORE_CTX* store)
{
	HandshakeCheck* check = currentCheck;
	if (!check)
		return 0; // a handshake nobody set up: never accept blindly
	check->sawCertificate = true;
	if (!preverifyOk)
	{
		check->chain.chainVerified = false;
		if (check->failure.empty())
			check->failure = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
		if (check->requireAuth)
			return 0;
	}
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;

	// Depth 0 comes last: the whole chain is known now.
	X509* leaf = X509_STORE_CTX_get_current_cert(store);
	PeerChain& chain = check->chain;
	addCertificate(chain, leaf);
	if (STACK_OF(X509)* verified = X509_STORE_CTX_get0_chain(store))
		for (int i = 0; i < sk_X509_num(verified); ++i)
			addCertificate(chain, sk_X509_value(verified, i));
	auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
	if (ssl)
		if (STACK_OF(X509)* presented = SSL_get_peer_cert_chain(ssl))
			for (int i = 0; i < sk_X509_num(presented); ++i)
				addCertificate(chain, sk_X509_value(presented, i));
	chain.nameMatched = nameMatches(leaf, check->authName);
	if (!chain.nameMatched && check->failure.empty())
		check->failure = "certificate does not match " + check->authName;
	if (check->requireAuth && !chain.authenticated())
		return 0;
	if (check->pins)
	{
		std::string reason;
		if (!check->pins->accept(check->authName, chain, reason))
		{
			check->refusedByPin = true;
			check->failure = reason;
			return 0;
		}
	}
	return 1;
}

} // namespace

bool PeerChain::contains(const std::string& digest) const
{
	return std::find(spkiSha256.begin(), spkiSha256.end(), digest) != spkiSha256.end();
}

void TlsVerifier::install(Poco::Net::Context& context)
{
	SSL_CTX_set_verify(context.sslContext(), SSL_VERIFY_PEER, verifyCallback);
}

TlsVerifier::Scope::Scope(HandshakeCheck& check)
{
	check.chain = PeerChain{};
	check.chain.chainVerified = true; // until the callback sees a failure
	check.sawCertificate = false;
	check.refusedByPin = false;
	check.failure.clear();
	currentCheck = &check;
}

TlsVerifier::Scope::~Scope()
{
	currentCheck = nullptr;
}

std::string TlsVerifier::spkiSha256OfPemFile(const std::string& path)
{
	std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "r"), std::fclose);
	if (!file)
		return {};
	X509* cert = PEM_read_X509(file.get(), nullptr, nullptr, nullptr);
	if (!cert)
		return {};
	std::string digest = spkiSha256(cert);
	X509_free(cert);
	return digest;
}

} // namespace dnsproxy::upstream
