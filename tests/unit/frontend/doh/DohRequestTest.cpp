// DohRequestTest.cpp - the RFC 8484 rules shared by both sessions: routing, base64url, max-age.
#include "frontend/doh/DohRequest.h"

#include "DohTestHelpers.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy;
using namespace dnsproxy::frontend::doh;
using test::PacketBuilder;

class DohRequestTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(DohRequestTest);
	CPPUNIT_TEST(testDecodesBase64UrlWithAndWithoutPadding);
	CPPUNIT_TEST(testRejectsBadBase64Url);
	CPPUNIT_TEST(testRoutesByPathIgnoringQueryString);
	CPPUNIT_TEST(testAcceptsAbsoluteFormTarget);
	CPPUNIT_TEST(testPostNeedsDnsMessageType);
	CPPUNIT_TEST(testGetNeedsDnsParameter);
	CPPUNIT_TEST(testGetRefusesLongParameterBeforeDecoding);
	CPPUNIT_TEST(testBodyLengthLimits);
	CPPUNIT_TEST(testMaxAgeIsSmallestTtlWithoutOpt);
	CPPUNIT_TEST(testMaxAgeOfNegativeAnswerUsesSoaMinimum);
	CPPUNIT_TEST(testMaxAgeOfCapturedNxdomain);
	CPPUNIT_TEST(testMaxAgeWithoutRecordsIsZero);
	CPPUNIT_TEST_SUITE_END();

public:
	void testDecodesBase64UrlWithAndWithoutPadding()
	{
		// RFC 4648 10 test vectors, in the URL alphabet.
		CPPUNIT_ASSERT(bytes("foobar") == *decodeBase64Url("Zm9vYmFy"));
		CPPUNIT_ASSERT(bytes("fooba") == *decodeBase64Url("Zm9vYmE"));
		CPPUNIT_ASSERT(bytes("fooba") == *decodeBase64Url("Zm9vYmE="));
		CPPUNIT_ASSERT(bytes("foob") == *decodeBase64Url("Zm9vYg"));
		CPPUNIT_ASSERT(bytes("foob") == *decodeBase64Url("Zm9vYg=="));
		const std::vector<uint8_t> binary = {0xfb, 0xff, 0xfe, 0x00, 0x3e};
		CPPUNIT_ASSERT_EQUAL(std::string("-__-AD4"), test::base64Url(binary));
		CPPUNIT_ASSERT(binary == *decodeBase64Url("-__-AD4"));
	}

	void testRejectsBadBase64Url()
	{
		CPPUNIT_ASSERT(!decodeBase64Url("Zm9v+mFy")); // standard alphabet, not URL
		CPPUNIT_ASSERT(!decodeBase64Url("Zm9v/mFy"));
		CPPUNIT_ASSERT(!decodeBase64Url("Zm9vY"));    // 5 characters cannot be
		CPPUNIT_ASSERT(!decodeBase64Url("Zm=vYg==")); // padding inside
		CPPUNIT_ASSERT(!decodeBase64Url("Zm9vYg%3D"));
	}

	void testRoutesByPathIgnoringQueryString()
	{
		DohSettings settings;
		CPPUNIT_ASSERT_EQUAL(HTTP_NOT_FOUND, checkHead(settings, "POST", "/", DNS_MESSAGE_TYPE).status);
		CPPUNIT_ASSERT_EQUAL(HTTP_NOT_FOUND, checkHead(settings, "POST", "/dns-query/x", DNS_MESSAGE_TYPE).status);
		CPPUNIT_ASSERT_EQUAL(0, checkHead(settings, "POST", "/dns-query?x=1", DNS_MESSAGE_TYPE).status);
		settings.path = "/custom";
		CPPUNIT_ASSERT_EQUAL(0, checkHead(settings, "POST", "/custom", DNS_MESSAGE_TYPE).status);
		CPPUNIT_ASSERT_EQUAL(HTTP_METHOD_NOT_ALLOWED, checkHead(settings, "PUT", "/custom", DNS_MESSAGE_TYPE).status);
		CPPUNIT_ASSERT_EQUAL(HTTP_METHOD_NOT_ALLOWED, checkHead(settings, "HEAD", "/custom", "").status);
	}

	void testAcceptsAbsoluteFormTarget()
	{
		const HeadVerdict verdict = checkHead(DohSettings(), "POST", "https://dns.example/dns-query", DNS_MESSAGE_TYPE);
		CPPUNIT_ASSERT_EQUAL(0, verdict.status);
		CPPUNIT_ASSERT(verdict.expectsBody);
	}

	void testPostNeedsDnsMessageType()
	{
		const DohSettings settings;
		CPPUNIT_ASSERT_EQUAL(0, checkHead(settings, "POST", "/dns-query", "Application/DNS-Message; x=1").status);
		CPPUNIT_ASSERT_EQUAL(HTTP_UNSUPPORTED_MEDIA_TYPE, checkHead(settings, "POST", "/dns-query", "").status);
		CPPUNIT_ASSERT_EQUAL(HTTP_UNSUPPORTED_MEDIA_TYPE,
							 checkHead(settings, "POST", "/dns-query", "application/dns-json").status);
	}

	void testGetNeedsDnsParameter()
	{
		const DohSettings settings;
		const auto query = test::dohQuery();
		const HeadVerdict good = checkHead(settings, "GET", "/dns-query?ct=x&dns=" + test::base64Url(query), "");
		CPPUNIT_ASSERT_EQUAL(0, good.status);
		CPPUNIT_ASSERT(!good.expectsBody);
		CPPUNIT_ASSERT(query == good.query);
		CPPUNIT_ASSERT_EQUAL(HTTP_BAD_REQUEST, checkHead(settings, "GET", "/dns-query", "").status);
		CPPUNIT_ASSERT_EQUAL(HTTP_BAD_REQUEST, checkHead(settings, "GET", "/dns-query?dns=", "").status);
		CPPUNIT_ASSERT_EQUAL(HTTP_BAD_REQUEST, checkHead(settings, "GET", "/dns-query?dns=a+b", "").status);
		CPPUNIT_ASSERT_EQUAL(HTTP_BAD_REQUEST, checkHead(settings, "GET", "/dns-query?xdns=AAAA", "").status);
		// Decodes to 9 octets: shorter than a DNS header.
		CPPUNIT_ASSERT_EQUAL(HTTP_BAD_REQUEST, checkHead(settings, "GET", "/dns-query?dns=AAAAAAAAAAAA", "").status);
	}

	void testGetRefusesLongParameterBeforeDecoding()
	{
		DohSettings settings;
		settings.maxRequestBytes = 30;
		const std::vector<uint8_t> fits(30, 0x41), over(31, 0x41);
		CPPUNIT_ASSERT_EQUAL(0, checkHead(settings, "GET", "/dns-query?dns=" + test::base64Url(fits), "").status);
		CPPUNIT_ASSERT_EQUAL(HTTP_PAYLOAD_TOO_LARGE,
							 checkHead(settings, "GET", "/dns-query?dns=" + test::base64Url(over), "").status);
		// Not even valid base64url, but too long to be looked at: 413, not 400.
		CPPUNIT_ASSERT_EQUAL(HTTP_PAYLOAD_TOO_LARGE,
							 checkHead(settings, "GET", "/dns-query?dns=" + std::string(1000, '!'), "").status);
	}

	void testBodyLengthLimits()
	{
		DohSettings settings;
		settings.maxRequestBytes = 512;
		CPPUNIT_ASSERT_EQUAL(HTTP_BAD_REQUEST, checkBodyLength(settings, 11));
		CPPUNIT_ASSERT_EQUAL(0, checkBodyLength(settings, 12));
		CPPUNIT_ASSERT_EQUAL(0, checkBodyLength(settings, 512));
		CPPUNIT_ASSERT_EQUAL(HTTP_PAYLOAD_TOO_LARGE, checkBodyLength(settings, 513));
	}

	void testMaxAgeIsSmallestTtlWithoutOpt()
	{
		// The OPT's TTL field is 0 here; counting it would give max-age=0.
		const auto answer = test::dohAnswer(120);
		CPPUNIT_ASSERT_EQUAL(uint32_t(120), cacheMaxAge(answer.data(), answer.size()));
		const auto captured = test::loadHexCapture("example_a_dnssec_answer.hex");
		CPPUNIT_ASSERT_EQUAL(uint32_t(300), cacheMaxAge(captured.data(), captured.size()));
	}

	void testMaxAgeOfNegativeAnswerUsesSoaMinimum()
	{
		// RFC 2308 5: SOA TTL 3600 but MINIMUM 120 -> 120.
		const auto nxdomain = PacketBuilder()
								  .header(7, 0x8183, 1, 0, 1, 0)
								  .question("nosuch.example", 1)
								  .rr("example", 6, 1, 3600, soaRdata(120))
								  .data();
		CPPUNIT_ASSERT_EQUAL(uint32_t(120), cacheMaxAge(nxdomain.data(), nxdomain.size()));
	}

	void testMaxAgeOfCapturedNxdomain()
	{
		const auto captured = test::loadHexCapture("nxdomain_soa_answer.hex");
		CPPUNIT_ASSERT_EQUAL(uint32_t(300), cacheMaxAge(captured.data(), captured.size()));
	}

	void testMaxAgeWithoutRecordsIsZero()
	{
		const auto empty = PacketBuilder().header(7, 0x8182, 1, 0, 0, 0).question("example", 1).data();
		CPPUNIT_ASSERT_EQUAL(uint32_t(0), cacheMaxAge(empty.data(), empty.size()));
		const std::vector<uint8_t> garbage(5, 0xff);
		CPPUNIT_ASSERT_EQUAL(uint32_t(0), cacheMaxAge(garbage.data(), garbage.size()));
	}

private:
	static std::vector<uint8_t> bytes(const std::string& text)
	{
		return std::vector<uint8_t>(text.begin(), text.end());
	}

	static std::vector<uint8_t> soaRdata(uint32_t minimum)
	{
		PacketBuilder rdata;
		rdata.name("ns.example").name("host.example").u32(1).u32(7200).u32(3600).u32(1209600).u32(minimum);
		return rdata.data();
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(DohRequestTest, "doh");
CPPUNIT_REGISTRY_ADD("doh", "frontend");
