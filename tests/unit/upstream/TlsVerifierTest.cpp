// TlsVerifierTest.cpp - SPKI digests as openssl prints them, and which keys of a handshake's chain a pin may match.
#include "upstream/TlsVerifier.h"
#include "upstream/TlsContextFactory.h"

#include <cppunit/extensions/HelperMacros.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dnsproxy::upstream;

namespace
{

const std::string CERTS = std::string(DNSPROXY_TEST_DATA) + "/certs/";

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using StackPtr = std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)>;
using SslPtr = std::unique_ptr<SSL, decltype(&SSL_free)>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

X509Ptr load(const std::string& name)
{
	std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen((CERTS + name + ".pem").c_str(), "r"), std::fclose);
	X509* cert = file ? PEM_read_X509(file.get(), nullptr, nullptr, nullptr) : nullptr;
	if (!cert)
		throw std::runtime_error("cannot read test certificate " + name);
	return X509Ptr(cert, X509_free);
}

std::string digest(const std::string& name)
{
	return TlsVerifier::spkiSha256OfPemFile(CERTS + name + ".pem");
}

/// A stack that does not own its certificates (the X509Ptrs do).
StackPtr stackOf(const std::vector<X509*>& certs)
{
	StackPtr stack(sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_free(s); });
	for (X509* cert : certs)
		sk_X509_push(stack.get(), cert);
	return stack;
}

std::vector<std::string> digests(std::initializer_list<const char*> names)
{
	std::vector<std::string> out;
	for (const char* name : names)
		out.push_back(digest(name));
	return out;
}

/// Accepts a chain whose pinnableKeys() hold `pin` (or any chain when `pin` is empty) and keeps
/// what it was asked.
class RecordingPins: public PinSource
{
public:
	explicit RecordingPins(std::string pin):
		_pin(std::move(pin))
	{
	}
	bool accept(const std::string&, const PeerChain& chain, std::string& reason) override
	{
		++asked;
		std::vector<std::string> keys = chain.pinnableKeys();
		bool ok = _pin.empty() || std::find(keys.begin(), keys.end(), _pin) != keys.end();
		if (!ok)
			reason = "pin not in the signed path";
		return ok;
	}
	void verified(const std::string&, const PeerChain&) override
	{
	}
	bool hasSpokenTls(const std::string&) override
	{
		return false;
	}
	void spokeTls(const std::string&) override
	{
	}
	int asked = 0;

private:
	std::string _pin;
};

/// One TLS handshake in memory (a BIO pair): a server sending `sent` (leaf first, with the leaf's
/// key) against our client context with TlsVerifier installed. Fills `check`; true when both
/// sides completed the handshake. `queued`, when given, receives what the thread's error queue
/// held right after the client's last SSL_do_handshake() (the server's next call clears it).
bool handshake(const std::vector<std::string>& sent, bool strict, const std::vector<std::string>& extraCas,
			   HandshakeCheck& check, unsigned long* queued = nullptr)
{
	dnsproxy::upstream::TlsSettings settings;
	settings.caFile = CERTS + "ca.pem";
	settings.verify = strict;
	settings.sessionResumption = false;
	Poco::Net::Context::Ptr client = dnsproxy::upstream::TlsContextFactory::createClientContext(settings);
	for (const auto& ca : extraCas)
		X509_STORE_add_cert(SSL_CTX_get_cert_store(client->sslContext()), load(ca).get());

	SslCtxPtr serverContext(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
	std::unique_ptr<FILE, int (*)(FILE*)> keyFile(std::fopen((CERTS + sent.front() + ".key").c_str(), "r"),
												  std::fclose);
	EVP_PKEY* key = keyFile ? PEM_read_PrivateKey(keyFile.get(), nullptr, nullptr, nullptr) : nullptr;
	CPPUNIT_ASSERT(key);
	CPPUNIT_ASSERT_EQUAL(1, SSL_CTX_use_PrivateKey(serverContext.get(), key));
	EVP_PKEY_free(key);
	CPPUNIT_ASSERT_EQUAL(1, SSL_CTX_use_certificate(serverContext.get(), load(sent.front()).get()));
	for (size_t i = 1; i < sent.size(); ++i)
		CPPUNIT_ASSERT_EQUAL(1, static_cast<int>(SSL_CTX_add1_chain_cert(serverContext.get(), load(sent[i]).get())));

	SslPtr clientSsl(SSL_new(client->sslContext()), SSL_free);
	SslPtr serverSsl(SSL_new(serverContext.get()), SSL_free);
	BIO* clientBio = nullptr;
	BIO* serverBio = nullptr;
	CPPUNIT_ASSERT_EQUAL(1, BIO_new_bio_pair(&clientBio, 0, &serverBio, 0));
	SSL_set_bio(clientSsl.get(), clientBio, clientBio);
	SSL_set_bio(serverSsl.get(), serverBio, serverBio);
	SSL_set_connect_state(clientSsl.get());
	SSL_set_accept_state(serverSsl.get());

	TlsVerifier::Scope scope(check);
	bool clientDone = false;
	bool serverDone = false;
	for (int round = 0; round < 20 && !(clientDone && serverDone); ++round)
	{
		if (!clientDone)
		{
			int rc = SSL_do_handshake(clientSsl.get());
			if (queued)
				*queued = ERR_peek_error();
			if (rc == 1)
				clientDone = true;
			else if (SSL_get_error(clientSsl.get(), rc) != SSL_ERROR_WANT_READ)
				break;
		}
		if (!serverDone)
		{
			int rc = SSL_do_handshake(serverSsl.get());
			if (rc == 1)
				serverDone = true;
			else if (SSL_get_error(serverSsl.get(), rc) != SSL_ERROR_WANT_READ)
				break;
		}
	}
	ERR_clear_error();
	return clientDone && serverDone;
}

/// A handshake as a DotConnection makes it to "dot.example" under one pin: `strict` sets both the
/// client context's verification and HandshakeCheck::requireAuth, as the strict and opportunistic
/// profiles do; `pins` accepts a chain whose signed path holds the key of `pinned`.
struct PinnedHandshake
{
	PinnedHandshake(const std::string& pinned, bool strict):
		pins(digest(pinned))
	{
		check.authName = "dot.example";
		check.requireAuth = strict;
		check.pins = &pins;
	}
	PinnedHandshake(const PinnedHandshake&) = delete;
	PinnedHandshake& operator=(const PinnedHandshake&) = delete;

	bool run(const std::vector<std::string>& sent, const std::vector<std::string>& extraCas = {},
			 unsigned long* queued = nullptr)
	{
		return handshake(sent, check.requireAuth, extraCas, check, queued);
	}

	RecordingPins pins;
	HandshakeCheck check;
};

} // namespace

class TlsVerifierTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TlsVerifierTest);
	CPPUNIT_TEST(testSpkiDigestMatchesOpensslPipeline);
	CPPUNIT_TEST(testSpkiDigestOfCaDiffersFromLeaf);
	CPPUNIT_TEST(testUnreadableFileGivesEmptyDigest);
	CPPUNIT_TEST(testSignedPathHoldsLeafAndTheCaThatSignedIt);
	CPPUNIT_TEST(testSignedPathStopsAtIssuerThatDidNotSign);
	CPPUNIT_TEST(testSentCertificatesAreNeverOnTheSignedPath);
	CPPUNIT_TEST(testSignedPathWithoutBuiltChainIsTheLeaf);
	CPPUNIT_TEST(testStrictHandshakeAppendedPinnedCaDoesNotCount);
	CPPUNIT_TEST(testStrictHandshakeRealChainSatisfiesCaPin);
	CPPUNIT_TEST(testOpportunisticForgedIssuerDoesNotSatisfyCaPin);
	CPPUNIT_TEST(testOpportunisticSelfSignedLeafSatisfiesItsOwnPin);
	CPPUNIT_TEST(testOpportunisticSelfSignedLeafWithAppendedCaDoesNotSatisfyCaPin);
	CPPUNIT_TEST(testOpportunisticBadSignatureLeavesNoQueuedError);
	CPPUNIT_TEST_SUITE_END();

public:
	static std::string run(const std::string& command)
	{
		std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
		std::string out;
		std::array<char, 256> buffer{};
		while (pipe && fgets(buffer.data(), buffer.size(), pipe.get()))
			out += buffer.data();
		while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
			out.pop_back();
		return out;
	}

	void testSpkiDigestMatchesOpensslPipeline()
	{
		const std::string pem = CERTS + "server.pem";
		std::string expected =
			run("openssl x509 -in '" + pem +
				"' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
		CPPUNIT_ASSERT_EQUAL(size_t(44), expected.size());
		CPPUNIT_ASSERT_EQUAL(expected, TlsVerifier::spkiSha256OfPemFile(pem));
	}

	void testSpkiDigestOfCaDiffersFromLeaf()
	{
		std::string leaf = digest("server");
		std::string ca = digest("ca");
		CPPUNIT_ASSERT(!ca.empty());
		CPPUNIT_ASSERT(leaf != ca);
	}

	void testUnreadableFileGivesEmptyDigest()
	{
		CPPUNIT_ASSERT_EQUAL(std::string(), TlsVerifier::spkiSha256OfPemFile("/nonexistent.pem"));
	}

	void testSignedPathHoldsLeafAndTheCaThatSignedIt()
	{
		X509Ptr leaf = load("server");
		X509Ptr ca = load("ca");
		PeerChain chain = TlsVerifier::signedPath(leaf.get(), stackOf({leaf.get(), ca.get()}).get(), nullptr, true);
		CPPUNIT_ASSERT(digests({"server", "ca"}) == chain.spkiSha256);
		CPPUNIT_ASSERT_EQUAL(size_t(2), chain.notAfter.size());
		CPPUNIT_ASSERT(chain.chainVerified);
	}

	void testSignedPathStopsAtIssuerThatDidNotSign()
	{
		// forged-server names "dnsproxy test CA" as its issuer and carries ca.pem's key identifier,
		// so OpenSSL puts ca.pem above it; other-ca.key signed it.
		X509Ptr forged = load("forged-server");
		X509Ptr ca = load("ca");
		PeerChain chain =
			TlsVerifier::signedPath(forged.get(), stackOf({forged.get(), ca.get()}).get(), nullptr, false);
		CPPUNIT_ASSERT(digests({"forged-server"}) == chain.spkiSha256);
		// A leaf from another CA under the pinned CA: the same.
		X509Ptr other = load("other-server");
		chain = TlsVerifier::signedPath(other.get(), stackOf({other.get(), ca.get()}).get(), nullptr, false);
		CPPUNIT_ASSERT(digests({"other-server"}) == chain.spkiSha256);
	}

	void testSentCertificatesAreNeverOnTheSignedPath()
	{
		X509Ptr leaf = load("other-server");
		X509Ptr otherCa = load("other-ca");
		X509Ptr ca = load("ca");
		X509Ptr realLeaf = load("server");
		PeerChain chain = TlsVerifier::signedPath(leaf.get(), stackOf({leaf.get(), otherCa.get()}).get(),
												  stackOf({leaf.get(), ca.get(), realLeaf.get()}).get(), true);
		CPPUNIT_ASSERT(digests({"other-server", "other-ca"}) == chain.spkiSha256);
		CPPUNIT_ASSERT(digests({"ca", "server"}) == chain.sentOnly);
	}

	void testSignedPathWithoutBuiltChainIsTheLeaf()
	{
		X509Ptr leaf = load("server");
		X509Ptr ca = load("ca");
		PeerChain chain = TlsVerifier::signedPath(leaf.get(), nullptr, stackOf({leaf.get(), ca.get()}).get(), false);
		CPPUNIT_ASSERT(digests({"server"}) == chain.spkiSha256);
		CPPUNIT_ASSERT(digests({"ca"}) == chain.sentOnly);
	}

	// The handshakes below run TlsVerifier's callbacks as a DotConnection does.

	void testStrictHandshakeAppendedPinnedCaDoesNotCount()
	{
		// other-ca is trusted too (a mis-issuance); the server appends the pinned ca.pem.
		PinnedHandshake h("ca", true);
		CPPUNIT_ASSERT(!h.run({"other-server", "ca"}, {"other-ca"}));
		CPPUNIT_ASSERT_EQUAL(1, h.pins.asked);
		CPPUNIT_ASSERT(h.check.refusedByPin);
		CPPUNIT_ASSERT(h.check.chain.authenticated());
		CPPUNIT_ASSERT(digests({"other-server", "other-ca"}) == h.check.chain.spkiSha256);
		CPPUNIT_ASSERT(digests({"ca"}) == h.check.chain.sentOnly);
	}

	void testStrictHandshakeRealChainSatisfiesCaPin()
	{
		PinnedHandshake h("ca", true);
		CPPUNIT_ASSERT(h.run({"server", "ca"}, {"other-ca"}));
		CPPUNIT_ASSERT(!h.check.refusedByPin);
		CPPUNIT_ASSERT(h.check.chain.authenticated());
		CPPUNIT_ASSERT(digests({"server", "ca"}) == h.check.chain.spkiSha256);
		CPPUNIT_ASSERT(h.check.chain.sentOnly.empty());
	}

	void testOpportunisticForgedIssuerDoesNotSatisfyCaPin()
	{
		PinnedHandshake h("ca", false);
		CPPUNIT_ASSERT(!h.run({"forged-server"}));
		CPPUNIT_ASSERT(h.check.refusedByPin);
		CPPUNIT_ASSERT(!h.check.chain.chainVerified);
		CPPUNIT_ASSERT(digests({"forged-server"}) == h.check.chain.spkiSha256);
	}

	void testOpportunisticSelfSignedLeafSatisfiesItsOwnPin()
	{
		PinnedHandshake h("self-signed", false);
		CPPUNIT_ASSERT(h.run({"self-signed", "ca"}));
		CPPUNIT_ASSERT(!h.check.refusedByPin);
		CPPUNIT_ASSERT(!h.check.chain.authenticated());
		CPPUNIT_ASSERT(digests({"self-signed"}) == h.check.chain.spkiSha256);
	}

	void testOpportunisticSelfSignedLeafWithAppendedCaDoesNotSatisfyCaPin()
	{
		PinnedHandshake h("ca", false);
		CPPUNIT_ASSERT(!h.run({"self-signed", "ca"}));
		CPPUNIT_ASSERT(h.check.refusedByPin);
		CPPUNIT_ASSERT(digests({"ca"}) == h.check.chain.sentOnly);
	}

	void testOpportunisticBadSignatureLeavesNoQueuedError()
	{
		// The forged leaf's bad signature is ignored (opportunistic, its own key pinned), but the
		// error OpenSSL queued for it must not stay: the next SSL_get_error() would report it.
		PinnedHandshake h("forged-server", false);
		unsigned long queued = 1;
		CPPUNIT_ASSERT(h.run({"forged-server"}, {}, &queued));
		CPPUNIT_ASSERT(!h.check.chain.chainVerified);
		CPPUNIT_ASSERT_EQUAL(0UL, queued);
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TlsVerifierTest, "upstream");
CPPUNIT_REGISTRY_ADD("upstream", "unit");
