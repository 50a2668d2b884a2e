// TlsServerContextTest.cpp - certificate loading, self-signed mode, reloads and ticket resumption.
#include "common/SpkiPin.h"
#include "frontend/tls/TlsServerContext.h"
#include "support/FakeTime.h"
#include "support/TempDir.h"
#include "support/TlsTestClient.h"
#include "upstream/TlsVerifier.h"

#include <cppunit/extensions/HelperMacros.h>

#include <openssl/pem.h>

#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>

using dnsproxy::frontend::tls::Alpn;
using dnsproxy::frontend::tls::TICKET_KEY_ROTATION;
using dnsproxy::frontend::tls::TlsServerContext;
using dnsproxy::frontend::tls::TlsServerSettings;
using dnsproxy::frontend::tls::TlsSetupError;
using dnsproxy::frontend::tls::TlsStream;
using dnsproxy::test::SslSessionPtr;
using dnsproxy::test::TempDir;
using dnsproxy::test::TlsClientOptions;
using dnsproxy::test::TlsTestConnection;
using Io = TlsStream::Io;

namespace
{

std::string certData(const std::string& name)
{
	return DNSPROXY_TEST_DATA "/certs/" + name;
}

std::string pinOf(const std::string& pem)
{
	return dnsproxy::upstream::TlsVerifier::spkiSha256OfPemFile(certData(pem));
}

TlsServerSettings files(const std::string& cert, const std::string& key)
{
	TlsServerSettings settings;
	settings.certFile = cert;
	settings.keyFile = key;
	return settings;
}

/// what() of the TlsSetupError that `make` throws; fails the test when it throws none.
template <typename F> std::string setupError(F make)
{
	try
	{
		make();
	}
	catch (const TlsSetupError& e)
	{
		return e.what();
	}
	CPPUNIT_FAIL("no TlsSetupError");
	return {};
}

bool contains(const std::string& text, const std::string& part)
{
	return text.find(part) != std::string::npos;
}

/// A full handshake whose session the client keeps (after one read, so TLS 1.3 tickets arrived).
SslSessionPtr fullHandshake(const TlsServerContext& context, Alpn kind, int maxVersion = 0)
{
	TlsClientOptions options;
	options.maxVersion = maxVersion;
	TlsTestConnection c(context.context(kind), options);
	CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
	CPPUNIT_ASSERT(!c.server.resumed());
	CPPUNIT_ASSERT(dnsproxy::test::serverToClient(c.server, c.client, "answer"));
	SslSessionPtr session = c.client.session();
	CPPUNIT_ASSERT(session && SSL_SESSION_is_resumable(session.get()));
	return session;
}

/// Does a new connection offering `session` resume? (Server and client must agree.)
bool resumes(const TlsServerContext& context, Alpn kind, SSL_SESSION* session, int maxVersion = 0)
{
	TlsClientOptions options;
	options.session = session;
	options.maxVersion = maxVersion;
	TlsTestConnection c(context.context(kind), options);
	CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
	CPPUNIT_ASSERT_EQUAL(c.client.resumed(), c.server.resumed());
	return c.server.resumed();
}

/// The SPKI pin of the certificate a fresh full handshake presents.
std::string presentedPin(const TlsServerContext& context)
{
	TlsTestConnection c(context.context(Alpn::DOT));
	CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
	return c.client.peerPin();
}

} // namespace

class TlsServerContextTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TlsServerContextTest);
	CPPUNIT_TEST(testLoadsChainAndComputesPin);
	CPPUNIT_TEST(testKeyNotMatchingCertificateNamesBothFiles);
	CPPUNIT_TEST(testMissingFileIsNamed);
	CPPUNIT_TEST(testGarbageCertificateIsNamed);
	CPPUNIT_TEST(testCertWithoutKeyIsRefused);
	CPPUNIT_TEST(testBadMinVersionIsRefused);
	CPPUNIT_TEST(testSelfSignedIsMadeOnceWithPrivateModes);
	CPPUNIT_TEST(testSelfSignedIsReusedSoThePinStays);
	CPPUNIT_TEST(testSelfSignedFileWithWiderModeIsNarrowed);
	CPPUNIT_TEST(testSelfSignedCorruptFileIsAnErrorNotReplaced);
	CPPUNIT_TEST(testExpiredSelfSignedIsRenewedWithTheSameKey);
	CPPUNIT_TEST(testReloadIfChangedIsFalseWhenNothingChanged);
	CPPUNIT_TEST(testReloadIfChangedSwapsRenewedCertificate);
	CPPUNIT_TEST(testHalfWrittenRenewalKeepsOldContext);
	CPPUNIT_TEST(testReloadWithBadSettingsThrowsAndKeepsOld);
	CPPUNIT_TEST(testContextTakenBeforeReloadStillServes);
	CPPUNIT_TEST(testHandshakesOnSeveralThreadsDuringReloads);
	CPPUNIT_TEST(testResumesTls13WithTicket);
	CPPUNIT_TEST(testResumesTls12WithTicket);
	CPPUNIT_TEST(testResumesAfterReloadWithAnotherCertificate);
	CPPUNIT_TEST(testResumesAfterOneTicketKeyRotation);
	CPPUNIT_TEST(testDoesNotResumeAfterTwoTicketKeyRotations);
	CPPUNIT_TEST(testDoesNotResumeAfterTwoRotationsTls12);
	CPPUNIT_TEST(testTimerRotationWithoutTrafficDropsOldKeys);
	CPPUNIT_TEST(testDotSessionDoesNotResumeOnDoh);
	CPPUNIT_TEST(testSeparateContextsDoNotShareTicketKeys);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_now = dnsproxy::test::T0;
		_dir = std::make_unique<TempDir>();
	}

	void tearDown() override
	{
		_dir.reset();
	}

	void testLoadsChainAndComputesPin()
	{
		// A chain file: leaf then CA.
		const std::string chain = _dir->write("chain.pem", dnsproxy::test::readWholeFile(certData("server.pem")) +
															   dnsproxy::test::readWholeFile(certData("ca.pem")));
		const TlsServerContext context(files(chain, certData("server.key")));
		CPPUNIT_ASSERT_EQUAL(pinOf("server.pem"), context.spkiPin());
		CPPUNIT_ASSERT(!context.selfSigned());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), context.generation());
		const std::string line = context.describe();
		CPPUNIT_ASSERT_MESSAGE(line, contains(line, "CN=dot.example SAN=DNS:dot.example,IP:127.0.0.1 notAfter=2126-"));
		CPPUNIT_ASSERT_MESSAGE(line, contains(line, "chain=1 file=" + chain));
		CPPUNIT_ASSERT_EQUAL(pinOf("server.pem"), presentedPin(context));
		// The client receives the CA after the leaf.
		TlsTestConnection c(context.context(Alpn::DOT));
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		CPPUNIT_ASSERT_EQUAL(2, sk_X509_num(SSL_get_peer_cert_chain(c.client.ssl())));
	}

	void testKeyNotMatchingCertificateNamesBothFiles()
	{
		const std::string what =
			setupError([] { TlsServerContext(files(certData("server.pem"), certData("other-server.key"))); });
		CPPUNIT_ASSERT_EQUAL("server.tls_key_file: the key in '" + certData("other-server.key") +
								 "' does not match the certificate in '" + certData("server.pem") + "'",
							 what);
	}

	void testMissingFileIsNamed()
	{
		const std::string missing = _dir->file("missing.pem");
		CPPUNIT_ASSERT_EQUAL("server.tls_cert_file: cannot read '" + missing + "': No such file or directory",
							 setupError([&] { TlsServerContext(files(missing, certData("server.key"))); }));
		CPPUNIT_ASSERT_EQUAL("server.tls_key_file: cannot read '" + missing + "': No such file or directory",
							 setupError([&] { TlsServerContext(files(certData("server.pem"), missing)); }));
	}

	void testGarbageCertificateIsNamed()
	{
		const std::string garbage = _dir->write("garbage.pem", "hello\n");
		const std::string what = setupError([&] { TlsServerContext(files(garbage, certData("server.key"))); });
		CPPUNIT_ASSERT_MESSAGE(what, contains(what, "server.tls_cert_file: no PEM certificate in '" + garbage + "'"));
		const std::string what2 = setupError([&] { TlsServerContext(files(certData("server.pem"), garbage)); });
		CPPUNIT_ASSERT_MESSAGE(what2, contains(what2, "server.tls_key_file: no PEM private key in '" + garbage + "'"));
	}

	void testCertWithoutKeyIsRefused()
	{
		const std::string what = setupError([] { TlsServerContext(files(certData("server.pem"), "")); });
		CPPUNIT_ASSERT_EQUAL(std::string("server.tls_key_file: must be set together with server.tls_cert_file"), what);
	}

	void testBadMinVersionIsRefused()
	{
		TlsServerSettings settings = files(certData("server.pem"), certData("server.key"));
		settings.minVersion = "1.1";
		CPPUNIT_ASSERT_EQUAL(std::string("min_version: '1.1' is not 1.2 or 1.3"),
							 setupError([&] { TlsServerContext{settings}; }));
	}

	void testSelfSignedIsMadeOnceWithPrivateModes()
	{
		const TlsServerContext context(selfSignedSettings());
		CPPUNIT_ASSERT(context.selfSigned());
		struct stat st = {};
		CPPUNIT_ASSERT_EQUAL(0, ::stat(selfSignedPath().c_str(), &st));
		CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 0777));
		CPPUNIT_ASSERT_EQUAL(0, ::stat((_dir->path() + "/var/lib").c_str(), &st));
		CPPUNIT_ASSERT_EQUAL(0700u, static_cast<unsigned>(st.st_mode & 0777));
		const std::string line = context.describe();
		CPPUNIT_ASSERT_MESSAGE(line, contains(line, "self-signed CN=dnsproxy SAN=DNS:dnsproxy"));
		CPPUNIT_ASSERT_MESSAGE(line, contains(line, "file=" + selfSignedPath()));
		CPPUNIT_ASSERT_EQUAL(context.spkiPin(), presentedPin(context));
		const std::string pem = dnsproxy::test::readWholeFile(selfSignedPath());
		CPPUNIT_ASSERT(contains(pem, "-----BEGIN PRIVATE KEY-----"));
		CPPUNIT_ASSERT(contains(pem, "-----BEGIN CERTIFICATE-----"));
	}

	void testSelfSignedIsReusedSoThePinStays()
	{
		std::string first;
		{
			const TlsServerContext context(selfSignedSettings());
			first = context.spkiPin();
		}
		const std::string pemBefore = dnsproxy::test::readWholeFile(selfSignedPath());
		const TlsServerContext again(selfSignedSettings());
		CPPUNIT_ASSERT_EQUAL(first, again.spkiPin());
		CPPUNIT_ASSERT_EQUAL(pemBefore, dnsproxy::test::readWholeFile(selfSignedPath()));
		// Control: another path makes another key.
		TlsServerSettings other = selfSignedSettings();
		other.selfSignedPath = _dir->file("other.pem");
		CPPUNIT_ASSERT(first != TlsServerContext(other).spkiPin());
	}

	void testSelfSignedFileWithWiderModeIsNarrowed()
	{
		{
			const TlsServerContext context(selfSignedSettings());
		}
		CPPUNIT_ASSERT_EQUAL(0, ::chmod(selfSignedPath().c_str(), 0644));
		const TlsServerContext context(selfSignedSettings());
		struct stat st = {};
		CPPUNIT_ASSERT_EQUAL(0, ::stat(selfSignedPath().c_str(), &st));
		CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 0777));
	}

	void testSelfSignedCorruptFileIsAnErrorNotReplaced()
	{
		::mkdir((_dir->path() + "/var").c_str(), 0700);
		::mkdir((_dir->path() + "/var/lib").c_str(), 0700);
		_dir->write("var/lib/tls.pem", "-----BEGIN PRIVATE KEY-----\nMIGH");
		::chmod(selfSignedPath().c_str(), 0600);
		const std::string what = setupError([&] { TlsServerContext{selfSignedSettings()}; });
		CPPUNIT_ASSERT_MESSAGE(
			what, contains(what, "self-signed certificate: no PEM certificate in '" + selfSignedPath() + "'"));
		CPPUNIT_ASSERT_EQUAL(std::string("-----BEGIN PRIVATE KEY-----\nMIGH"),
							 dnsproxy::test::readWholeFile(selfSignedPath()));
	}

	void testExpiredSelfSignedIsRenewedWithTheSameKey()
	{
		::mkdir((_dir->path() + "/var").c_str(), 0700);
		::mkdir((_dir->path() + "/var/lib").c_str(), 0700);
		const std::string expiredPin = writeExpiredSelfSigned(selfSignedPath());
		const TlsServerContext context(selfSignedSettings());
		CPPUNIT_ASSERT_EQUAL(expiredPin, context.spkiPin());
		const std::string line = context.describe();
		CPPUNIT_ASSERT_MESSAGE(line, !contains(line, "EXPIRED"));
		CPPUNIT_ASSERT_MESSAGE(line, contains(line, "notAfter=20")); // ten years on, not 1970
		// Control: the file now holds the renewed certificate.
		const TlsServerContext again(selfSignedSettings());
		CPPUNIT_ASSERT_EQUAL(line, again.describe());
	}

	void testReloadIfChangedIsFalseWhenNothingChanged()
	{
		TlsServerContext context(copiedPair("server"));
		CPPUNIT_ASSERT(!context.reloadIfChanged());
		CPPUNIT_ASSERT(!context.reloadIfChanged());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), context.generation());
		CPPUNIT_ASSERT_EQUAL(std::string(), context.lastError());
	}

	void testReloadIfChangedSwapsRenewedCertificate()
	{
		TlsServerContext context(copiedPair("server"));
		CPPUNIT_ASSERT_EQUAL(pinOf("server.pem"), presentedPin(context));
		renew("other-server");
		CPPUNIT_ASSERT(context.reloadIfChanged());
		CPPUNIT_ASSERT_EQUAL(pinOf("other-server.pem"), context.spkiPin());
		CPPUNIT_ASSERT_EQUAL(pinOf("other-server.pem"), presentedPin(context));
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), context.generation());
		CPPUNIT_ASSERT(!context.reloadIfChanged());
	}

	void testHalfWrittenRenewalKeepsOldContext()
	{
		TlsServerContext context(copiedPair("server"));
		const std::string cert = dnsproxy::test::readWholeFile(certData("other-server.pem"));
		// The new certificate, cut short: the old one stays.
		_dir->write("cert.pem", cert.substr(0, cert.size() / 2));
		CPPUNIT_ASSERT(!context.reloadIfChanged());
		CPPUNIT_ASSERT_MESSAGE(context.lastError(), contains(context.lastError(), _dir->file("cert.pem")));
		CPPUNIT_ASSERT_EQUAL(pinOf("server.pem"), presentedPin(context));
		CPPUNIT_ASSERT(!context.reloadIfChanged()); // the same broken state is not parsed again
		// The whole certificate but the old key: a mismatch, still the old one.
		_dir->replace("cert.pem", cert);
		CPPUNIT_ASSERT(!context.reloadIfChanged());
		CPPUNIT_ASSERT_MESSAGE(context.lastError(), contains(context.lastError(), "does not match"));
		CPPUNIT_ASSERT_EQUAL(pinOf("server.pem"), presentedPin(context));
		// The key arrives: now it swaps.
		_dir->replace("key.pem", dnsproxy::test::readWholeFile(certData("other-server.key")));
		CPPUNIT_ASSERT(context.reloadIfChanged());
		CPPUNIT_ASSERT_EQUAL(std::string(), context.lastError());
		CPPUNIT_ASSERT_EQUAL(pinOf("other-server.pem"), presentedPin(context));
	}

	void testReloadWithBadSettingsThrowsAndKeepsOld()
	{
		TlsServerContext context(files(certData("server.pem"), certData("server.key")));
		const std::string what =
			setupError([&] { context.reload(files(certData("other-server.pem"), certData("server.key"))); });
		CPPUNIT_ASSERT(contains(what, "does not match"));
		CPPUNIT_ASSERT_EQUAL(what, context.lastError());
		CPPUNIT_ASSERT_EQUAL(pinOf("server.pem"), presentedPin(context));
		// Control: good new settings (other file names) are taken.
		context.reload(files(certData("other-server.pem"), certData("other-server.key")));
		CPPUNIT_ASSERT_EQUAL(pinOf("other-server.pem"), presentedPin(context));
		CPPUNIT_ASSERT_EQUAL(std::string(), context.lastError());
	}

	void testContextTakenBeforeReloadStillServes()
	{
		TlsServerContext context(files(certData("server.pem"), certData("server.key")));
		std::shared_ptr<SSL_CTX> old = context.context(Alpn::DOT);
		context.reload(files(certData("other-server.pem"), certData("other-server.key")));
		CPPUNIT_ASSERT(old != context.context(Alpn::DOT));
		TlsTestConnection c(std::move(old));
		CPPUNIT_ASSERT(Io::OK == dnsproxy::test::handshakeBoth(c.server, c.client));
		CPPUNIT_ASSERT_EQUAL(pinOf("server.pem"), c.client.peerPin());
	}

	void testHandshakesOnSeveralThreadsDuringReloads()
	{
		TlsServerContext context(files(certData("server.pem"), certData("server.key")));
		const std::set<std::string> pins = {pinOf("server.pem"), pinOf("other-server.pem")};
		std::atomic<int> good{0};
		std::atomic<bool> wrong{false};
		std::vector<std::thread> workers;
		for (int t = 0; t < 3; ++t)
			workers.emplace_back([&] {
				for (int i = 0; i < 20; ++i)
				{
					TlsTestConnection c(context.context(i % 2 ? Alpn::DOT : Alpn::DOH));
					if (dnsproxy::test::handshakeBoth(c.server, c.client) == Io::OK && pins.count(c.client.peerPin()))
						++good;
					else
						wrong = true;
				}
			});
		for (int i = 0; i < 20; ++i)
		{
			const std::string name = i % 2 ? "server" : "other-server";
			context.reload(files(certData(name + ".pem"), certData(name + ".key")));
			context.reloadIfChanged();
		}
		for (auto& worker : workers)
			worker.join();
		CPPUNIT_ASSERT(!wrong);
		CPPUNIT_ASSERT_EQUAL(60, good.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(21), context.generation());
	}

	void testResumesTls13WithTicket()
	{
		const TlsServerContext context(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(context, Alpn::DOT);
		CPPUNIT_ASSERT(resumes(context, Alpn::DOT, session.get()));
	}

	void testResumesTls12WithTicket()
	{
		const TlsServerContext context(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(context, Alpn::DOH, TLS1_2_VERSION);
		CPPUNIT_ASSERT(SSL_SESSION_has_ticket(session.get()));
		CPPUNIT_ASSERT(resumes(context, Alpn::DOH, session.get(), TLS1_2_VERSION));
	}

	void testResumesAfterReloadWithAnotherCertificate()
	{
		TlsServerContext context(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(context, Alpn::DOT);
		context.reload(files(certData("other-server.pem"), certData("other-server.key")));
		CPPUNIT_ASSERT(resumes(context, Alpn::DOT, session.get()));
	}

	void testResumesAfterOneTicketKeyRotation()
	{
		const TlsServerContext context(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(context, Alpn::DOT);
		_now += TICKET_KEY_ROTATION;
		CPPUNIT_ASSERT(resumes(context, Alpn::DOT, session.get()));
	}

	void testDoesNotResumeAfterTwoTicketKeyRotations()
	{
		const TlsServerContext context(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(context, Alpn::DOT);
		_now += TICKET_KEY_ROTATION;
		const SslSessionPtr unused = fullHandshake(context, Alpn::DOT); // rotates once, by use
		_now += TICKET_KEY_ROTATION;
		CPPUNIT_ASSERT(!resumes(context, Alpn::DOT, session.get()));
		// Control: a ticket issued after the second rotation resumes.
		const SslSessionPtr fresh = fullHandshake(context, Alpn::DOT);
		CPPUNIT_ASSERT(resumes(context, Alpn::DOT, fresh.get()));
	}

	void testDoesNotResumeAfterTwoRotationsTls12()
	{
		const TlsServerContext context(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(context, Alpn::DOT, TLS1_2_VERSION);
		_now += TICKET_KEY_ROTATION * 2; // two periods without any use
		CPPUNIT_ASSERT(!resumes(context, Alpn::DOT, session.get(), TLS1_2_VERSION));
	}

	void testTimerRotationWithoutTrafficDropsOldKeys()
	{
		TlsServerContext context(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(context, Alpn::DOT);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), context.rotateTicketKeysIfDue());
		_now += TICKET_KEY_ROTATION - std::chrono::seconds(1);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), context.rotateTicketKeysIfDue());
		_now += std::chrono::seconds(1);
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), context.rotateTicketKeysIfDue());
		_now += TICKET_KEY_ROTATION;
		CPPUNIT_ASSERT_EQUAL(uint64_t(3), context.rotateTicketKeysIfDue());
		CPPUNIT_ASSERT(!resumes(context, Alpn::DOT, session.get()));
	}

	void testDotSessionDoesNotResumeOnDoh()
	{
		const TlsServerContext context(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(context, Alpn::DOT);
		CPPUNIT_ASSERT(!resumes(context, Alpn::DOH, session.get()));
		CPPUNIT_ASSERT(resumes(context, Alpn::DOT, session.get())); // control
	}

	void testSeparateContextsDoNotShareTicketKeys()
	{
		const TlsServerContext first(files(certData("server.pem"), certData("server.key")), clock());
		const TlsServerContext second(files(certData("server.pem"), certData("server.key")), clock());
		const SslSessionPtr session = fullHandshake(first, Alpn::DOT);
		CPPUNIT_ASSERT(!resumes(second, Alpn::DOT, session.get()));
	}

private:
	dnsproxy::frontend::tls::TlsClock clock()
	{
		return [this] { return _now; };
	}

	std::string selfSignedPath() const
	{
		return _dir->path() + "/var/lib/tls.pem";
	}

	TlsServerSettings selfSignedSettings() const
	{
		TlsServerSettings settings;
		settings.selfSignedPath = selfSignedPath();
		return settings;
	}

	/// cert.pem and key.pem in the temp folder, copies of tests/data/certs/<name>.{pem,key}.
	TlsServerSettings copiedPair(const std::string& name) const
	{
		return files(_dir->write("cert.pem", dnsproxy::test::readWholeFile(certData(name + ".pem"))),
					 _dir->write("key.pem", dnsproxy::test::readWholeFile(certData(name + ".key"))));
	}

	/// A renewal as certbot does it: both files replaced by new ones.
	void renew(const std::string& name) const
	{
		_dir->replace("cert.pem", dnsproxy::test::readWholeFile(certData(name + ".pem")));
		_dir->replace("key.pem", dnsproxy::test::readWholeFile(certData(name + ".key")));
	}

	/// A key and a certificate for it that expired yesterday, as the self-signed file holds them;
	/// returns the key's pin.
	static std::string writeExpiredSelfSigned(const std::string& path)
	{
		using namespace dnsproxy::frontend::tls;
		EvpPkeyPtr key(EVP_EC_gen("P-256"));
		X509Ptr cert(X509_new());
		X509_set_version(cert.get(), 2);
		ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
		X509_gmtime_adj(X509_getm_notBefore(cert.get()), -10 * 86400);
		X509_gmtime_adj(X509_getm_notAfter(cert.get()), -86400);
		X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
								   reinterpret_cast<const unsigned char*>("dnsproxy"), -1, -1, 0);
		X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
		X509_set_pubkey(cert.get(), key.get());
		CPPUNIT_ASSERT(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
		BioPtr bio(BIO_new_file(path.c_str(), "w"));
		CPPUNIT_ASSERT(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
		CPPUNIT_ASSERT(PEM_write_bio_X509(bio.get(), cert.get()) == 1);
		bio.reset();
		::chmod(path.c_str(), 0600);
		return dnsproxy::common::spkiPin(cert.get());
	}

	std::chrono::steady_clock::time_point _now;
	std::unique_ptr<TempDir> _dir;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TlsServerContextTest, "frontend");
