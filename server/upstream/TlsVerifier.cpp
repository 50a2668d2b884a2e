// TlsVerifier.cpp - verify callbacks: chain result, host name, the signed path of SPKI digests, pins.
#include "upstream/TlsVerifier.h"

#include "common/SpkiPin.h"

#include <arpa/inet.h>
#include <openssl/err.h>
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

int64_t notAfter(X509* cert)
{
	std::tm tm{};
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return 0;
	return static_cast<int64_t>(timegm(&tm));
}

void addCertificate(PeerChain& chain, X509* cert)
{
	std::string digest = common::spkiPin(cert);
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

/// True when `issuer`'s key verifies the signature on `subject`. Leaves OpenSSL's error queue as it
/// was: a stale error there would make a later SSL_get_error() on this thread report a failure.
bool signedBy(X509* subject, X509* issuer)
{
	EVP_PKEY* key = X509_get0_pubkey(issuer);
	if (!key)
		return false;
	ERR_set_mark();
	bool ok = X509_verify(subject, key) == 1;
	ERR_pop_to_mark();
	return ok;
}

/// Called by X509_verify_cert for every certificate and for every error it finds. Strict profile:
/// the first error ends the verification, and with it the handshake. Opportunistic: the error is
/// recorded and the verification goes on, so the chain is still built (and used unauthenticated).
int certificateCallback(int preverifyOk, X509_STORE_CTX* store)
{
	HandshakeCheck* check = currentCheck;
	if (!check)
		return 0; // a handshake nobody set up: never accept blindly
	if (preverifyOk)
		return 1;
	check->chain.chainVerified = false;
	if (check->failure.empty())
		check->failure = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
	return check->requireAuth ? 0 : 1;
}

/// Called once per handshake that carries a certificate, in place of OpenSSL's own call to
/// X509_verify_cert: runs it, then decides name and pins on its complete result. (Deciding in the
/// per-certificate callback, as before, meant guessing which of its several calls at depth 0 was
/// the last one.)
int chainCallback(X509_STORE_CTX* store, void*)
{
	HandshakeCheck* check = currentCheck;
	if (!check)
		return 0;
	check->sawCertificate = true;
	PeerChain& chain = check->chain;
	// An ignored failure (opportunistic) leaves nothing on OpenSSL's error queue once the handshake
	// call returns (a stale error would make the next SSL_get_error() report SSL_ERROR_SSL): checked
	// with OpenSSL 3.0 by TlsVerifierTest::testOpportunisticBadSignatureLeavesNoQueuedError.
	if (X509_verify_cert(store) <= 0)
	{
		chain.chainVerified = false;
		if (check->failure.empty())
			check->failure = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
		if (check->requireAuth)
			return 0;
	}
	X509* leaf = X509_STORE_CTX_get0_cert(store);
	if (!leaf)
		return 0;
	chain = TlsVerifier::signedPath(leaf, X509_STORE_CTX_get0_chain(store), X509_STORE_CTX_get0_untrusted(store),
									chain.chainVerified);
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
			X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
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

std::vector<std::string> PeerChain::pinnableKeys() const
{
	if (nameMatched || spkiSha256.empty())
		return spkiSha256;
	return {spkiSha256.front()};
}

void TlsVerifier::install(Poco::Net::Context& context)
{
	SSL_CTX_set_verify(context.sslContext(), SSL_VERIFY_PEER, certificateCallback);
	SSL_CTX_set_cert_verify_callback(context.sslContext(), chainCallback, nullptr);
}

PeerChain TlsVerifier::signedPath(X509* leaf, STACK_OF(X509) * built, STACK_OF(X509) * sent, bool chainVerified)
{
	// Why the signatures are checked here, in both profiles, instead of trusting OpenSSL's result:
	// in the opportunistic profile the verification goes on after errors, and OpenSSL builds the
	// chain by issuer NAME. A leaf that names the real CA as its issuer but was signed by someone
	// else (and has no AuthorityKeyIdentifier to say so) gets the real CA from the CA file as its
	// issuer, with only a signature error at depth 0 to tell. Reading per-depth error codes to find
	// which link broke is easy to get wrong (an error at depth n may be about link n or n+1, and
	// other errors are legitimately ignored); one X509_verify per link is the definition itself.
	// In the strict profile it repeats what OpenSSL verified (any failure aborted the handshake).
	// The top certificate's self-signature is not needed: its key signs, it is not signed.
	PeerChain chain;
	chain.chainVerified = chainVerified;
	addCertificate(chain, leaf);
	if (built && sk_X509_num(built) > 0 && X509_cmp(sk_X509_value(built, 0), leaf) == 0)
		for (int i = 1; i < sk_X509_num(built); ++i)
		{
			X509* issuer = sk_X509_value(built, i);
			if (!signedBy(sk_X509_value(built, i - 1), issuer))
				break;
			addCertificate(chain, issuer);
		}
	if (sent)
		for (int i = 0; i < sk_X509_num(sent); ++i)
		{
			std::string digest = common::spkiPin(sk_X509_value(sent, i));
			if (!digest.empty() && !chain.contains(digest) &&
				std::find(chain.sentOnly.begin(), chain.sentOnly.end(), digest) == chain.sentOnly.end())
				chain.sentOnly.push_back(digest);
		}
	return chain;
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
	std::string digest = common::spkiPin(cert);
	X509_free(cert);
	return digest;
}

} // namespace dnsproxy::upstream
