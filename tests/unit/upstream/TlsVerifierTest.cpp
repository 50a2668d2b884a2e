// TlsVerifierTest.cpp - the SPKI SHA-256 digest equals what the openssl command line computes.
#include "upstream/TlsVerifier.h"

#include <cppunit/extensions/HelperMacros.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

class TlsVerifierTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TlsVerifierTest);
	CPPUNIT_TEST(testSpkiDigestMatchesOpensslPipeline);
	CPPUNIT_TEST(testSpkiDigestOfCaDiffersFromLeaf);
	CPPUNIT_TEST(testUnreadableFileGivesEmptyDigest);
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
		const std::string pem = std::string(DNSPROXY_TEST_DATA) + "/certs/server.pem";
		std::string expected =
			run("openssl x509 -in '" + pem +
				"' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
		CPPUNIT_ASSERT_EQUAL(size_t(44), expected.size());
		CPPUNIT_ASSERT_EQUAL(expected, dnsproxy::upstream::TlsVerifier::spkiSha256OfPemFile(pem));
	}

	void testSpkiDigestOfCaDiffersFromLeaf()
	{
		const std::string data = DNSPROXY_TEST_DATA;
		std::string leaf = dnsproxy::upstream::TlsVerifier::spkiSha256OfPemFile(data + "/certs/server.pem");
		std::string ca = dnsproxy::upstream::TlsVerifier::spkiSha256OfPemFile(data + "/certs/ca.pem");
		CPPUNIT_ASSERT(!ca.empty());
		CPPUNIT_ASSERT(leaf != ca);
	}

	void testUnreadableFileGivesEmptyDigest()
	{
		CPPUNIT_ASSERT_EQUAL(std::string(), dnsproxy::upstream::TlsVerifier::spkiSha256OfPemFile("/nonexistent.pem"));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TlsVerifierTest, "upstream");
CPPUNIT_REGISTRY_ADD("upstream", "unit");
