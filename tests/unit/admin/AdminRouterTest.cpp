// AdminRouterTest.cpp - unit tests of AdminRouter: routing, 404/405/401/403/413/400/500/503, every endpoint.
#include "admin/AdminRouter.h"

#include "admin/DnsNames.h"
#include "support/AdminTestData.h"

#include <Poco/JSON/Parser.h>

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy::admin;

namespace
{

const std::string PIN = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..31
const std::string TOKEN = "Bearer s3cret";

AdminRequest request(const std::string& method, const std::string& path, const std::string& body = "",
					 const std::string& authorization = "")
{
	AdminRequest r;
	r.host = "127.0.0.1:8053"; // what curl and a browser on http://127.0.0.1:8053/ send
	r.method = method;
	r.path = path;
	r.body = body;
	r.authorization = authorization;
	return r;
}

std::string header(const AdminResponse& response, const std::string& name)
{
	for (const auto& [key, value] : response.headers)
	{
		if (key == name)
			return value;
	}
	return std::string();
}

std::string field(const AdminResponse& response, const std::string& key)
{
	Poco::JSON::Parser parser;
	return parser.parse(response.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>(key);
}

} // namespace

class AdminRouterTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AdminRouterTest);
	CPPUNIT_TEST(testUnknownPathIs404WithJsonError);
	CPPUNIT_TEST(testWrongMethodIs405WithAllow);
	CPPUNIT_TEST(testStatsIsJson);
	CPPUNIT_TEST(testMetricsIsPrometheusText);
	CPPUNIT_TEST(testDashboardIsSelfContainedHtml);
	CPPUNIT_TEST(testHealthIs200WhenAnUpstreamIsUsable);
	CPPUNIT_TEST(testHealthIs503WhenNoUpstreamIsUsable);
	CPPUNIT_TEST(testMutationWithoutTokenIs401);
	CPPUNIT_TEST(testMutationWithWrongTokenIs401);
	CPPUNIT_TEST(testMutationWithoutConfiguredTokenIs403);
	CPPUNIT_TEST(testReadsNeedNoToken);
	CPPUNIT_TEST(testBodyOver64KiBIs413);
	CPPUNIT_TEST(testMalformedJsonIs400);
	CPPUNIT_TEST(testPinMustBeBase64Of32Bytes);
	CPPUNIT_TEST(testPostPinApprovesLowerCasedName);
	CPPUNIT_TEST(testGetPinsListsAllOrOneName);
	CPPUNIT_TEST(testDeletePinsForgetsName);
	CPPUNIT_TEST(testGetCacheWithoutNameListsEverything);
	CPPUNIT_TEST(testGetCachePassesCanonicalNameAndType);
	CPPUNIT_TEST(testGetCacheRejectsUnknownType);
	CPPUNIT_TEST(testDeleteCacheByNameErasesName);
	CPPUNIT_TEST(testDeleteCacheWithoutNameClearsAll);
	CPPUNIT_TEST(testDisabledCacheIs503);
	CPPUNIT_TEST(testExceptionInSourceIs500);
	CPPUNIT_TEST(testParsesTypeMnemonicsAndNumbers);
	CPPUNIT_TEST(testHostThatIsANameIs421BeforeAnythingElse);
	CPPUNIT_TEST(testHostThatIsAnIpLiteralOrLocalhostIsServed);
	CPPUNIT_TEST(testRequestWithoutHostIsServed);
	CPPUNIT_TEST(testIsAllowedHostParsesPortsAndBrackets);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_stats = dnsproxy::test::FakeStats();
		_cache = dnsproxy::test::FakeCache();
		_pins = dnsproxy::test::FakePins();
	}

	void testUnknownPathIs404WithJsonError()
	{
		AdminResponse r = router().handle(request("GET", "/nope"));
		CPPUNIT_ASSERT_EQUAL(404, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("application/json"), r.contentType);
		CPPUNIT_ASSERT_EQUAL(std::string("no such endpoint: /nope"), field(r, "error"));
		CPPUNIT_ASSERT_EQUAL(404, router().handle(request("GET", "/pins/")).status);
		CPPUNIT_ASSERT_EQUAL(404, router().handle(request("GET", "/stats/")).status);
	}

	void testWrongMethodIs405WithAllow()
	{
		AdminResponse r = router().handle(request("POST", "/stats", "", TOKEN));
		CPPUNIT_ASSERT_EQUAL(405, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("GET"), header(r, "Allow"));
		r = router().handle(request("PUT", "/pins"));
		CPPUNIT_ASSERT_EQUAL(405, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("GET, POST"), header(r, "Allow"));
		r = router().handle(request("POST", "/cache"));
		CPPUNIT_ASSERT_EQUAL(std::string("GET, DELETE"), header(r, "Allow"));
		r = router().handle(request("POST", "/pins/a.example"));
		CPPUNIT_ASSERT_EQUAL(std::string("GET, DELETE"), header(r, "Allow"));
	}

	void testStatsIsJson()
	{
		AdminResponse r = router().handle(request("GET", "/stats"));
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT(r.body.find("\"udp\": 70") != std::string::npos);
	}

	void testMetricsIsPrometheusText()
	{
		AdminResponse r = router().handle(request("GET", "/metrics"));
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("text/plain; version=0.0.4; charset=utf-8"), r.contentType);
		CPPUNIT_ASSERT(r.body.find("dnsproxy_queries_total{transport=\"udp\"} 70\n") != std::string::npos);
	}

	void testDashboardIsSelfContainedHtml()
	{
		AdminResponse r = router().handle(request("GET", "/"));
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("text/html; charset=utf-8"), r.contentType);
		CPPUNIT_ASSERT(r.body.find("fetch(\"/stats\"") != std::string::npos);
		CPPUNIT_ASSERT(r.body.find("http://") == std::string::npos);
		CPPUNIT_ASSERT(r.body.find("https://") == std::string::npos);
		CPPUNIT_ASSERT(r.body.find("src=") == std::string::npos);
	}

	void testHealthIs200WhenAnUpstreamIsUsable()
	{
		AdminResponse r = router().handle(request("GET", "/health"));
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("ok"), field(r, "status"));
	}

	void testHealthIs503WhenNoUpstreamIsUsable()
	{
		_stats.up = false;
		AdminResponse r = router().handle(request("GET", "/health"));
		CPPUNIT_ASSERT_EQUAL(503, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("unavailable"), field(r, "status"));
	}

	void testMutationWithoutTokenIs401()
	{
		AdminResponse r = router().handle(request("DELETE", "/cache"));
		CPPUNIT_ASSERT_EQUAL(401, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("Bearer realm=\"dnsproxy\""), header(r, "WWW-Authenticate"));
		CPPUNIT_ASSERT_EQUAL(0, _cache.clears);
	}

	void testMutationWithWrongTokenIs401()
	{
		CPPUNIT_ASSERT_EQUAL(401, router().handle(request("DELETE", "/pins/a.example", "", "Bearer nope")).status);
		CPPUNIT_ASSERT_EQUAL(401, router().handle(request("POST", "/pins", "{}", "Bearer nope")).status);
		CPPUNIT_ASSERT(_pins.forgotten.empty());
	}

	void testMutationWithoutConfiguredTokenIs403()
	{
		AdminRouter open(sources(), TokenAuth(""));
		CPPUNIT_ASSERT_EQUAL(403, open.handle(request("DELETE", "/cache", "", TOKEN)).status);
		CPPUNIT_ASSERT_EQUAL(403, open.handle(request("DELETE", "/pins/a.example")).status);
		CPPUNIT_ASSERT_EQUAL(403, open.handle(request("POST", "/pins", "{}")).status);
		CPPUNIT_ASSERT_EQUAL(0, _cache.clears);
	}

	void testReadsNeedNoToken()
	{
		AdminRequest r = request("GET", "/cache");
		r.query["name"] = "a.example";
		CPPUNIT_ASSERT_EQUAL(200, router().handle(r).status);
		CPPUNIT_ASSERT_EQUAL(200, router().handle(request("GET", "/pins")).status);
	}

	void testBodyOver64KiBIs413()
	{
		CPPUNIT_ASSERT_EQUAL(413, router().handle(request("POST", "/pins", std::string(65537, ' '), TOKEN)).status);
		AdminRequest declared = request("POST", "/pins", "", TOKEN);
		declared.bodyTooLarge = true;
		CPPUNIT_ASSERT_EQUAL(413, router().handle(declared).status);
	}

	void testMalformedJsonIs400()
	{
		CPPUNIT_ASSERT_EQUAL(400, router().handle(request("POST", "/pins", "{\"name\": ", TOKEN)).status);
		CPPUNIT_ASSERT_EQUAL(400, router().handle(request("POST", "/pins", "[1, 2]", TOKEN)).status);
		CPPUNIT_ASSERT_EQUAL(400, router().handle(request("POST", "/pins", "", TOKEN)).status);
		CPPUNIT_ASSERT_EQUAL(
			400, router().handle(request("POST", "/pins", "{\"name\": 5, \"sha256\": \"x\"}", TOKEN)).status);
		CPPUNIT_ASSERT_EQUAL(400,
							 router().handle(request("POST", "/pins", "{\"sha256\": \"" + PIN + "\"}", TOKEN)).status);
		CPPUNIT_ASSERT(_pins.records.empty());
	}

	void testPinMustBeBase64Of32Bytes()
	{
		CPPUNIT_ASSERT(AdminRouter::isSha256Base64(PIN));
		CPPUNIT_ASSERT(!AdminRouter::isSha256Base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="));     // 31 bytes
		CPPUNIT_ASSERT(!AdminRouter::isSha256Base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==")); // 34
		CPPUNIT_ASSERT(!AdminRouter::isSha256Base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9="));     // spare bits
		CPPUNIT_ASSERT(!AdminRouter::isSha256Base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));      // no padding
		CPPUNIT_ASSERT(!AdminRouter::isSha256Base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw_Hh8="));     // base64url
		AdminResponse r =
			router().handle(request("POST", "/pins", "{\"name\": \"a.example\", \"sha256\": \"abc\"}", TOKEN));
		CPPUNIT_ASSERT_EQUAL(400, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("\"sha256\" must be the base64 of a 32-byte SHA-256 digest"),
							 field(r, "error"));
	}

	void testPostPinApprovesLowerCasedName()
	{
		AdminResponse r = router().handle(
			request("POST", "/pins", "{\"name\": \"Dot.Example\", \"sha256\": \"" + PIN + "\"}", TOKEN));
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _pins.records.size());
		CPPUNIT_ASSERT_EQUAL(std::string("dot.example"), _pins.records[0].name);
		CPPUNIT_ASSERT_EQUAL(PIN, _pins.records[0].sha256);
		CPPUNIT_ASSERT_EQUAL(int64_t(1714564800), _pins.records[0].firstSeen);
	}

	void testGetPinsListsAllOrOneName()
	{
		_pins.records = {{"a.example", PIN, "learned", 0, 0, 1, 0}, {"b.example", PIN, "config", 0, 0, 0, 0}};
		AdminResponse all = router().handle(request("GET", "/pins"));
		CPPUNIT_ASSERT(all.body.find("a.example") != std::string::npos);
		CPPUNIT_ASSERT(all.body.find("b.example") != std::string::npos);
		AdminResponse one = router().handle(request("GET", "/pins/B.example"));
		CPPUNIT_ASSERT_EQUAL(200, one.status);
		CPPUNIT_ASSERT(one.body.find("a.example") == std::string::npos);
		CPPUNIT_ASSERT(one.body.find("b.example") != std::string::npos);
	}

	void testDeletePinsForgetsName()
	{
		AdminResponse r = router().handle(request("DELETE", "/pins/Dot.Example", "", TOKEN));
		CPPUNIT_ASSERT_EQUAL(200, r.status);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _pins.forgotten.size());
		CPPUNIT_ASSERT_EQUAL(std::string("dot.example"), _pins.forgotten[0]);
		CPPUNIT_ASSERT(r.body.find("\"forgotten\": 1") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(400, router().handle(request("DELETE", "/pins/a b", "", TOKEN)).status);
	}

	void testGetCacheWithoutNameListsEverything()
	{
		_cache.lastFindName = "unset";
		CPPUNIT_ASSERT_EQUAL(200, router().handle(request("GET", "/cache")).status);
		CPPUNIT_ASSERT_EQUAL(std::string(), _cache.lastFindName);
	}

	void testGetCachePassesCanonicalNameAndType()
	{
		dnsproxy::cache::CacheEntryView entry;
		entry.name = "a.example.";
		entry.type = 28;
		entry.ttlRemaining = 99;
		_cache.entries = {entry};
		AdminRequest r = request("GET", "/cache");
		r.query["name"] = "A.Example";
		r.query["type"] = "aaaa";
		AdminResponse response = router().handle(r);
		CPPUNIT_ASSERT_EQUAL(200, response.status);
		CPPUNIT_ASSERT_EQUAL(std::string("a.example."), _cache.lastFindName);
		CPPUNIT_ASSERT(_cache.lastFindType.has_value());
		CPPUNIT_ASSERT_EQUAL(uint16_t(28), *_cache.lastFindType);
		CPPUNIT_ASSERT(response.body.find("\"ttl_remaining\": 99") != std::string::npos);
		r.query.erase("type");
		router().handle(r);
		CPPUNIT_ASSERT(!_cache.lastFindType.has_value());
	}

	void testGetCacheRejectsUnknownType()
	{
		AdminRequest r = request("GET", "/cache");
		r.query["name"] = "a.example";
		r.query["type"] = "BOGUS";
		CPPUNIT_ASSERT_EQUAL(400, router().handle(r).status);
	}

	void testDeleteCacheByNameErasesName()
	{
		AdminRequest r = request("DELETE", "/cache", "", TOKEN);
		r.query["name"] = "A.example.";
		AdminResponse response = router().handle(r);
		CPPUNIT_ASSERT_EQUAL(200, response.status);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _cache.erased.size());
		CPPUNIT_ASSERT_EQUAL(std::string("a.example."), _cache.erased[0]);
		CPPUNIT_ASSERT_EQUAL(0, _cache.clears);
	}

	void testDeleteCacheWithoutNameClearsAll()
	{
		AdminResponse response = router().handle(request("DELETE", "/cache", "", TOKEN));
		CPPUNIT_ASSERT_EQUAL(200, response.status);
		CPPUNIT_ASSERT_EQUAL(1, _cache.clears);
		CPPUNIT_ASSERT(_cache.erased.empty());
	}

	void testDisabledCacheIs503()
	{
		AdminSources s = sources();
		s.cache = nullptr;
		AdminRouter noCache(s, TokenAuth("s3cret"));
		AdminRequest r = request("GET", "/cache");
		r.query["name"] = "a.example";
		CPPUNIT_ASSERT_EQUAL(503, noCache.handle(r).status);
		CPPUNIT_ASSERT_EQUAL(503, noCache.handle(request("DELETE", "/cache", "", TOKEN)).status);
	}

	void testExceptionInSourceIs500()
	{
		_stats.throwOnSnapshot = true;
		AdminResponse r = router().handle(request("GET", "/stats"));
		CPPUNIT_ASSERT_EQUAL(500, r.status);
		CPPUNIT_ASSERT_EQUAL(std::string("internal error"), field(r, "error"));
	}

	void testParsesTypeMnemonicsAndNumbers()
	{
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), DnsNames::parseType("a").value());
		CPPUNIT_ASSERT_EQUAL(uint16_t(65), DnsNames::parseType("HTTPS").value());
		CPPUNIT_ASSERT_EQUAL(uint16_t(28), DnsNames::parseType("28").value());
		CPPUNIT_ASSERT_EQUAL(uint16_t(65280), DnsNames::parseType("TYPE65280").value());
		CPPUNIT_ASSERT(!DnsNames::parseType("65536"));
		CPPUNIT_ASSERT(!DnsNames::parseType("TYPE"));
		CPPUNIT_ASSERT(!DnsNames::parseType(""));
	}

	void testHostThatIsANameIs421BeforeAnythingElse()
	{
		// A page on evil.example rebinding its name to 127.0.0.1: the browser sends its own name.
		_cache.lastFindName = "untouched";
		for (const std::string path : {"/cache", "/pins", "/stats", "/", "/nope"})
		{
			AdminRequest r = request("GET", path);
			r.host = "evil.example:8053";
			const AdminResponse answer = router().handle(r);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(path, 421, answer.status);
			CPPUNIT_ASSERT_EQUAL(std::string("application/json"), answer.contentType);
			CPPUNIT_ASSERT(field(answer, "error").find("DNS rebinding") != std::string::npos);
		}
		CPPUNIT_ASSERT_EQUAL(std::string("untouched"), _cache.lastFindName);
		AdminRequest deletion = request("DELETE", "/cache", "", TOKEN);
		deletion.host = "evil.example";
		CPPUNIT_ASSERT_EQUAL(421, router().handle(deletion).status);
		CPPUNIT_ASSERT_EQUAL(0, _cache.clears);
	}

	void testHostThatIsAnIpLiteralOrLocalhostIsServed()
	{
		for (const std::string host : {"127.0.0.1:8053", "localhost:8053", "LOCALHOST:8053", "[::1]:8053",
									   "192.0.2.10:8053", "127.0.0.1:18053", "localhost"})
		{
			AdminRequest r = request("GET", "/cache");
			r.host = host;
			CPPUNIT_ASSERT_EQUAL_MESSAGE(host, 200, router().handle(r).status);
		}
	}

	void testRequestWithoutHostIsServed()
	{
		AdminRequest r = request("GET", "/health");
		r.host.clear(); // HTTP/1.0: no Host header; browsers always send one
		CPPUNIT_ASSERT_EQUAL(200, router().handle(r).status);
	}

	void testIsAllowedHostParsesPortsAndBrackets()
	{
		for (const std::string good :
			 {"", "127.0.0.1", "10.1.2.3:80", "[::1]", "[2001:db8::1]:8053", "localhost.", "localhost:65535"})
			CPPUNIT_ASSERT_MESSAGE(good, AdminRouter::isAllowedHost(good));
		for (const std::string bad :
			 {"evil.example", "evil.example:8053", "127.0.0.1.nip.io:8053", "localhost.evil.example", "127.1:8053",
			  "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x", "[::1", "[::1]x", "[evil.example]:8053", "::1",
			  "2130706433:8053", "127.0.0.1:8053:1"})
			CPPUNIT_ASSERT_MESSAGE(bad, !AdminRouter::isAllowedHost(bad));
	}

private:
	AdminSources sources()
	{
		AdminSources s;
		s.stats = &_stats;
		s.health = &_stats;
		s.cache = &_cache;
		s.pins = &_pins;
		return s;
	}

	AdminRouter router()
	{
		return AdminRouter(sources(), TokenAuth("s3cret"), [] { return int64_t(1714564800); });
	}

	dnsproxy::test::FakeStats _stats;
	dnsproxy::test::FakeCache _cache;
	dnsproxy::test::FakePins _pins;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(AdminRouterTest, "admin");
