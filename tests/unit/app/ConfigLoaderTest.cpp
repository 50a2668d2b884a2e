// ConfigLoaderTest.cpp - unit tests of ConfigLoader: defaults, INI quirks, -D overrides, validation, toIni.
#include "app/ConfigLoader.h"
#include "app/ConfigTable.h"

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>

using namespace dnsproxy::app;

namespace
{

using Defines = std::vector<std::pair<std::string, std::string>>;

// SHA-256 sized (32 bytes) and 31/33-byte digests in base64.
const std::string PIN_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const std::string PIN_B = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const std::string PIN_31 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==";

bool startsWith(const std::string& text, const std::string& prefix)
{
	return text.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

/// In the global namespace, like POCO's fixtures, so `dnsproxy-unit ConfigLoaderTest` finds it by name.
class ConfigLoaderTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ConfigLoaderTest);
	CPPUNIT_TEST(testDefaultsEqualSpec);
	CPPUNIT_TEST(testShippedIniLoadsWithSpecDefaults);
	CPPUNIT_TEST(testStripsInlineComments);
	CPPUNIT_TEST(testKeepsHashInsideValues);
	CPPUNIT_TEST(testIgnoresHashCommentLines);
	CPPUNIT_TEST(testKeysAreCaseInsensitive);
	CPPUNIT_TEST(testDefinesOverrideFile);
	CPPUNIT_TEST(testParseDefineSplitsAtFirstEquals);
	CPPUNIT_TEST(testParseDefineRejectsMalformedText);
	CPPUNIT_TEST(testRejectsUnknownKeyNamingIt);
	CPPUNIT_TEST(testRejectsUnknownSectionNamingIt);
	CPPUNIT_TEST(testRejectsKeyOutsideSection);
	CPPUNIT_TEST(testRejectsUnknownDefineKey);
	CPPUNIT_TEST(testRejectsMalformedLineNamingFile);
	CPPUNIT_TEST(testRejectsMissingFileNamingIt);
	CPPUNIT_TEST(testRejectsOutOfRangeIntegers);
	CPPUNIT_TEST(testRejectsBadBooleans);
	CPPUNIT_TEST(testAcceptsAllBooleanSpellings);
	CPPUNIT_TEST(testRejectsUnknownChoices);
	CPPUNIT_TEST(testParsesIpv6Listen);
	CPPUNIT_TEST(testRejectsBadListen);
	CPPUNIT_TEST(testParsesProtocolsSubset);
	CPPUNIT_TEST(testRejectsBadProtocols);
	CPPUNIT_TEST(testParsesIpv6ServersWithDefaultPort);
	CPPUNIT_TEST(testRejectsBadServers);
	CPPUNIT_TEST(testParsesIpv6Allow);
	CPPUNIT_TEST(testRejectsEmptyOrBadAllow);
	CPPUNIT_TEST(testParsesSeveralPinsPerName);
	CPPUNIT_TEST(testRejectsPinWithBadBase64);
	CPPUNIT_TEST(testRejectsPinWithWrongLength);
	CPPUNIT_TEST(testRejectsUnreadableCaFile);
	CPPUNIT_TEST(testRejectsMinTtlAboveMaxTtl);
	CPPUNIT_TEST(testChecksStorageFleetAndAdmin);
	CPPUNIT_TEST(testAcceptsRedisCredentialsTlsAndSentinel);
	CPPUNIT_TEST(testReadsFleetSecretFromFile);
	CPPUNIT_TEST(testNeverPrintsRedisPasswordOrSecret);
	CPPUNIT_TEST(testToIniRoundTrips);
	CPPUNIT_TEST(testToIniListsEveryTableKey);
	CPPUNIT_TEST(testParseHostPortDefaultsPort);
	CPPUNIT_TEST(testParseHostPortRejectsNamesAndBadPorts);
	CPPUNIT_TEST(testParseCidrTreatsBareAddressAsHost);
	CPPUNIT_TEST(testListenAddressAndEndpointBracketIpv6);
	CPPUNIT_TEST(testToIniHidesTheToken);
	CPPUNIT_TEST(testUdpPayloadSizeIsCappedAt4096);
	CPPUNIT_TEST(testUserMustExist);
	CPPUNIT_TEST(testWarnsWhenPublicNetworksReachAListenerBeyondLoopback);
	CPPUNIT_TEST(testNoExposureWarningForPrivateNetworksOrLoopback);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		char name[] = "/tmp/dnsproxy-ca-XXXXXX";
		const int fd = ::mkstemp(name);
		CPPUNIT_ASSERT(fd >= 0);
		::close(fd);
		_caFile = name;
		std::ofstream(_caFile) << "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
	}

	void tearDown() override
	{
		std::remove(_caFile.c_str());
	}

	void testDefaultsEqualSpec()
	{
		const Config c = load("");
		CPPUNIT_ASSERT_EQUAL(size_t(1), c.server.listen.size());
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:53"), c.server.listen[0].toString());
		CPPUNIT_ASSERT(c.server.udp && c.server.tcp);
		CPPUNIT_ASSERT_EQUAL(size_t(6), c.server.allow.size());
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.0/8"), c.server.allow[0].text);
		CPPUNIT_ASSERT_EQUAL(std::string("fc00::/7"), c.server.allow[5].text);
		CPPUNIT_ASSERT_EQUAL(10000u, c.server.tcpIdleTimeoutMs);
		CPPUNIT_ASSERT_EQUAL(1024u, c.server.maxTcpConnections);
		CPPUNIT_ASSERT_EQUAL(10000u, c.server.maxPending);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1232), c.server.udpPayloadSize);
		CPPUNIT_ASSERT_EQUAL(0u, c.server.threads);

		CPPUNIT_ASSERT_EQUAL(size_t(2), c.upstream.servers.size());
		CPPUNIT_ASSERT_EQUAL(std::string("1.1.1.1:853"), c.upstream.servers[0].endpoint());
		CPPUNIT_ASSERT_EQUAL(std::string("cloudflare-dns.com"), c.upstream.servers[0].authName);
		CPPUNIT_ASSERT_EQUAL(std::string("1.0.0.1:853"), c.upstream.servers[1].endpoint());
		CPPUNIT_ASSERT(c.upstream.strategy == dnsproxy::upstream::SelectionStrategy::FAILOVER);
		CPPUNIT_ASSERT_EQUAL(2000u, c.upstream.timeoutMs);
		CPPUNIT_ASSERT_EQUAL(1u, c.upstream.connections);
		CPPUNIT_ASSERT_EQUAL(100u, c.upstream.maxInflight);
		CPPUNIT_ASSERT_EQUAL(30000u, c.upstream.idleTimeoutMs);
		CPPUNIT_ASSERT(c.upstream.keepalive && c.upstream.padding);

		CPPUNIT_ASSERT(c.tls.profile == TlsProfile::STRICT);
		CPPUNIT_ASSERT(c.tls.pins.empty());
		CPPUNIT_ASSERT(c.tls.pinPolicy == PinPolicy::LEARN);
		CPPUNIT_ASSERT(c.tls.sessionResumption);
		CPPUNIT_ASSERT_EQUAL(std::string("1.2"), c.tls.minVersion);

		CPPUNIT_ASSERT(c.cache.enabled && c.cache.serveStale && c.cache.prefetch);
		CPPUNIT_ASSERT_EQUAL(size_t(100000), c.cache.maxEntries);
		CPPUNIT_ASSERT_EQUAL(0u, c.cache.minTtl);
		CPPUNIT_ASSERT_EQUAL(86400u, c.cache.maxTtl);
		CPPUNIT_ASSERT_EQUAL(900u, c.cache.negativeTtl);
		CPPUNIT_ASSERT_EQUAL(30u, c.cache.staleAnswerTtl);
		CPPUNIT_ASSERT_EQUAL(86400u, c.cache.maxStale);

		CPPUNIT_ASSERT_EQUAL(std::string("/var/lib/dnsproxy/dnsproxy.db"), c.storage.path);
		CPPUNIT_ASSERT_EQUAL(5000u, c.storage.flushIntervalMs);
		CPPUNIT_ASSERT_EQUAL(std::string(""), c.fleet.redis);
		CPPUNIT_ASSERT_EQUAL(std::string("dnsproxy:"), c.fleet.keyPrefix);
		CPPUNIT_ASSERT_EQUAL(50u, c.fleet.timeoutMs);
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:8053"), c.admin.listen);
		CPPUNIT_ASSERT_EQUAL(std::string(""), c.admin.token);
		CPPUNIT_ASSERT_EQUAL(std::string("information"), c.log.level);
		CPPUNIT_ASSERT(!c.log.queries);
	}

	void testShippedIniLoadsWithSpecDefaults()
	{
		const Config shipped =
			ConfigLoader::loadFile(DNSPROXY_TEST_DATA "/../../etc/dnsproxy.ini", {{"tls.ca_file", _caFile}});
		CPPUNIT_ASSERT_EQUAL(ConfigLoader::toIni(load("")), ConfigLoader::toIni(shipped));
	}

	void testStripsInlineComments()
	{
		const Config c = load("[server]\n"
							  "listen = 127.0.0.1:5353   ; comment\n"
							  "threads = 4\t; tab before the comment\n"
							  "[tls]\n"
							  "pins =                 ; name:base64 pairs\n"
							  "[admin]\n"
							  "token = abc;def ; the ';' inside the token stays\n");
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5353"), c.server.listen[0].toString());
		CPPUNIT_ASSERT_EQUAL(4u, c.server.threads);
		CPPUNIT_ASSERT(c.tls.pins.empty());
		CPPUNIT_ASSERT_EQUAL(std::string("abc;def"), c.admin.token);
	}

	void testKeepsHashInsideValues()
	{
		const Config c = load("[upstream]\nservers = 9.9.9.9#dns.quad9.net ; Quad9\n");
		CPPUNIT_ASSERT_EQUAL(size_t(1), c.upstream.servers.size());
		CPPUNIT_ASSERT_EQUAL(std::string("dns.quad9.net"), c.upstream.servers[0].authName);
	}

	void testIgnoresHashCommentLines()
	{
		const Config c = load("# a comment\n[server]\n  # indented comment\nthreads = 2\n");
		CPPUNIT_ASSERT_EQUAL(2u, c.server.threads);
	}

	void testKeysAreCaseInsensitive()
	{
		const Config c = load("[Server]\nTHREADS = 3\n", {{"LOG.Level", "debug"}});
		CPPUNIT_ASSERT_EQUAL(3u, c.server.threads);
		CPPUNIT_ASSERT_EQUAL(std::string("debug"), c.log.level);
		CPPUNIT_ASSERT_EQUAL(std::string("server.listne: unknown key"), errorOf("[Server]\nListne = 1.2.3.4\n"));
	}

	void testDefinesOverrideFile()
	{
		const Config c = load("[server]\nlisten = 127.0.0.1:53\nthreads = 2\n",
							  {{"server.listen", "127.0.0.1:5353"}, {"storage.path", "/tmp/x.db"}});
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5353"), c.server.listen[0].toString());
		CPPUNIT_ASSERT_EQUAL(2u, c.server.threads);
		CPPUNIT_ASSERT_EQUAL(std::string("/tmp/x.db"), c.storage.path);
	}

	void testParseDefineSplitsAtFirstEquals()
	{
		const auto define = ConfigLoader::parseDefine("admin.token=a=b");
		CPPUNIT_ASSERT_EQUAL(std::string("admin.token"), define.first);
		CPPUNIT_ASSERT_EQUAL(std::string("a=b"), define.second);
		const auto empty = ConfigLoader::parseDefine("Admin.Listen=");
		CPPUNIT_ASSERT_EQUAL(std::string("admin.listen"), empty.first);
		CPPUNIT_ASSERT_EQUAL(std::string(""), empty.second);
	}

	void testParseDefineRejectsMalformedText()
	{
		for (const std::string text : {"server.listen", "listen=1.2.3.4", ".listen=1", "server.=1", "a.b.c=1", "=x"})
		{
			const std::string message = errorOf([&] { ConfigLoader::parseDefine(text); });
			CPPUNIT_ASSERT_EQUAL("-D " + text + ": expected section.key=value", message);
		}
	}

	void testRejectsUnknownKeyNamingIt()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("server.listne: unknown key"), errorOf("[server]\nlistne = 127.0.0.1:53\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("server.listen.x: unknown key"), errorOf("[server]\nlisten.x = 1\n"));
	}

	void testRejectsUnknownSectionNamingIt()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("servr: unknown section"), errorOf("[servr]\nlisten = 127.0.0.1:53\n"));
	}

	void testRejectsKeyOutsideSection()
	{
		CPPUNIT_ASSERT(startsWith(errorOf("listen = 127.0.0.1:53\n"), "listen: unknown key"));
	}

	void testRejectsUnknownDefineKey()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("server.listne: unknown key"), errorOf("", {{"server.listne", "1"}}));
		CPPUNIT_ASSERT_EQUAL(std::string("srv.listen: unknown section"), errorOf("", {{"srv.listen", "1"}}));
	}

	void testRejectsMalformedLineNamingFile()
	{
		CPPUNIT_ASSERT(startsWith(errorOf("[server]\nthreads 4\n"), "<string>: line 2: expected 'key = value'"));
		CPPUNIT_ASSERT(startsWith(errorOf("[server\nthreads = 4\n"), "<string>: line 1: missing ']'"));
	}

	void testRejectsMissingFileNamingIt()
	{
		const std::string message = errorOf([] { ConfigLoader::loadFile("/nonexistent/dnsproxy.ini", {}); });
		CPPUNIT_ASSERT_EQUAL(std::string("/nonexistent/dnsproxy.ini: cannot read file: No such file or directory"),
							 message);
		CPPUNIT_ASSERT(startsWith(errorOf([] { ConfigLoader::loadFile("/tmp", {}); }), "/tmp: cannot read file"));
	}

	void testRejectsOutOfRangeIntegers()
	{
		const std::vector<std::pair<std::string, std::string>> bad{
			{"upstream.timeout_ms", "abc"},
			{"upstream.timeout_ms", "0"},
			{"upstream.timeout_ms", "-5"},
			{"upstream.timeout_ms", "600001"},
			{"server.udp_payload_size", "511"},
			{"server.threads", "257"},
			{"server.max_tcp_connections", ""},
			{"upstream.max_inflight", "65536"},
			{"upstream.connections", "65"},
			{"cache.max_entries", "0"},
			{"storage.flush_interval_ms", "99"},
			{"cache.max_ttl", "1e3"},
			{"server.tcp_idle_timeout_ms", "99999999999999999999"}};
		for (const auto& define : bad)
		{
			const std::string message = errorOf("", {define});
			CPPUNIT_ASSERT_MESSAGE(message, startsWith(message, define.first + ": expected an integer between "));
			CPPUNIT_ASSERT_MESSAGE(message, message.find("got '" + define.second + "'") != std::string::npos);
		}
		CPPUNIT_ASSERT_EQUAL(std::string("upstream.timeout_ms: expected an integer between 1 and 600000, got 'abc'"),
							 errorOf("[upstream]\ntimeout_ms = abc\n"));
	}

	void testRejectsBadBooleans()
	{
		for (const std::string key : {"upstream.keepalive", "upstream.padding", "tls.session_resumption",
									  "cache.enabled", "cache.serve_stale", "cache.prefetch", "log.queries"})
		{
			const std::string message = errorOf("", {{key, "maybe"}});
			CPPUNIT_ASSERT_EQUAL(key + ": expected true, false, yes, no, on, off, 1 or 0, got 'maybe'", message);
		}
	}

	void testAcceptsAllBooleanSpellings()
	{
		for (const std::string yes : {"true", "yes", "on", "1", "TRUE"})
			CPPUNIT_ASSERT(load("", {{"log.queries", yes}}).log.queries);
		for (const std::string no : {"false", "no", "off", "0", "Off"})
			CPPUNIT_ASSERT(!load("", {{"log.queries", no}}).log.queries);
	}

	void testRejectsUnknownChoices()
	{
		for (const std::string key :
			 {"upstream.strategy", "tls.profile", "tls.pin_policy", "tls.min_version", "log.level"})
		{
			const std::string message = errorOf("", {{key, "bogus"}});
			CPPUNIT_ASSERT_MESSAGE(message, startsWith(message, key + ": expected "));
			CPPUNIT_ASSERT_MESSAGE(message, message.find("got 'bogus'") != std::string::npos);
		}
		const Config c = load("", {{"upstream.strategy", "round_robin"},
								   {"tls.profile", "opportunistic"},
								   {"tls.pin_policy", "enforce"},
								   {"tls.min_version", "1.3"},
								   {"log.level", "trace"}});
		CPPUNIT_ASSERT(c.upstream.strategy == dnsproxy::upstream::SelectionStrategy::ROUND_ROBIN);
		CPPUNIT_ASSERT(c.tls.profile == TlsProfile::OPPORTUNISTIC);
		CPPUNIT_ASSERT(c.tls.pinPolicy == PinPolicy::ENFORCE);
		CPPUNIT_ASSERT_EQUAL(std::string("1.3"), c.tls.minVersion);
		CPPUNIT_ASSERT_EQUAL(std::string("trace"), c.log.level);
	}

	void testParsesIpv6Listen()
	{
		const Config c = load("[server]\nlisten = [::1]:5353, 127.0.0.1, [0:0::0]\n");
		CPPUNIT_ASSERT_EQUAL(size_t(3), c.server.listen.size());
		CPPUNIT_ASSERT_EQUAL(std::string("::1"), c.server.listen[0].host);
		CPPUNIT_ASSERT_EQUAL(uint16_t(5353), c.server.listen[0].port);
		CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5353"), c.server.listen[0].toString());
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:53"), c.server.listen[1].toString());
		CPPUNIT_ASSERT_EQUAL(std::string("[::]:53"), c.server.listen[2].toString());
	}

	void testRejectsBadListen()
	{
		for (const std::string value : {"", " , ", "localhost:53", "127.0.0.1:0", "127.0.0.1:65536", "[::1:53",
										"[127.0.0.1]:53", "1.2.3.4:53, 1.2.3.4"})
		{
			const std::string message = errorOf("", {{"server.listen", value}});
			CPPUNIT_ASSERT_MESSAGE(value + " -> " + message, startsWith(message, "server.listen: "));
		}
	}

	void testParsesProtocolsSubset()
	{
		const Config c = load("", {{"server.protocols", "tcp"}});
		CPPUNIT_ASSERT(!c.server.udp);
		CPPUNIT_ASSERT(c.server.tcp);
	}

	void testRejectsBadProtocols()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("server.protocols: needs udp, tcp or both"),
							 errorOf("", {{"server.protocols", ""}}));
		CPPUNIT_ASSERT_EQUAL(std::string("server.protocols: expected udp and/or tcp, got 'quic'"),
							 errorOf("", {{"server.protocols", "udp,quic"}}));
	}

	void testParsesIpv6ServersWithDefaultPort()
	{
		const Config c =
			load("[upstream]\nservers = [2606:4700::1111]:853#one.one.one.one, [2620:fe::fe]#dns.quad9.net,"
				 " 9.9.9.9, 149.112.112.112:8853#\n");
		CPPUNIT_ASSERT_EQUAL(size_t(4), c.upstream.servers.size());
		CPPUNIT_ASSERT_EQUAL(std::string("2606:4700::1111"), c.upstream.servers[0].address);
		CPPUNIT_ASSERT_EQUAL(std::string("[2606:4700::1111]:853"), c.upstream.servers[0].endpoint());
		CPPUNIT_ASSERT_EQUAL(std::string("one.one.one.one"), c.upstream.servers[0].authName);
		CPPUNIT_ASSERT_EQUAL(uint16_t(853), c.upstream.servers[1].port);
		CPPUNIT_ASSERT_EQUAL(std::string("9.9.9.9:853"), c.upstream.servers[2].endpoint());
		CPPUNIT_ASSERT_EQUAL(std::string(""), c.upstream.servers[2].authName);
		CPPUNIT_ASSERT_EQUAL(uint16_t(8853), c.upstream.servers[3].port);
		CPPUNIT_ASSERT_EQUAL(std::string(""), c.upstream.servers[3].authName);
	}

	void testRejectsBadServers()
	{
		for (const std::string value : {"", "dns.google#dns.google", "[2606:4700::1111:853#x", "1.1.1.1:0#x",
										"1.1.1.1#bad name", "1.1.1.1#x, 1.1.1.1:853#y"})
		{
			const std::string message = errorOf("", {{"upstream.servers", value}});
			CPPUNIT_ASSERT_MESSAGE(value + " -> " + message, startsWith(message, "upstream.servers: "));
		}
	}

	void testParsesIpv6Allow()
	{
		const Config c = load("[server]\nallow = 2001:db8::/32, ::1, 192.0.2.7\n");
		CPPUNIT_ASSERT_EQUAL(size_t(3), c.server.allow.size());
		CPPUNIT_ASSERT(c.server.allow[0].network.ipv6);
		CPPUNIT_ASSERT_EQUAL(32u, c.server.allow[0].network.bits);
		CPPUNIT_ASSERT_EQUAL(128u, c.server.allow[1].network.bits);
		CPPUNIT_ASSERT(!c.server.allow[2].network.ipv6);
		CPPUNIT_ASSERT_EQUAL(32u, c.server.allow[2].network.bits);
	}

	void testRejectsEmptyOrBadAllow()
	{
		CPPUNIT_ASSERT(startsWith(errorOf("[server]\nallow =\n"), "server.allow: must not be empty"));
		for (const std::string value : {"10.0.0.0/33", "::/129", "10.0.0.0/", "example.com/8", "10.0.0.0/8/8"})
		{
			const std::string message = errorOf("", {{"server.allow", value}});
			CPPUNIT_ASSERT_MESSAGE(value + " -> " + message, startsWith(message, "server.allow: expected "));
		}
	}

	void testParsesSeveralPinsPerName()
	{
		const Config c = load("", {{"tls.pins", "dns.example:" + PIN_A + ", dns.example:" + PIN_B}});
		CPPUNIT_ASSERT_EQUAL(size_t(2), c.tls.pins.size());
		CPPUNIT_ASSERT_EQUAL(std::string("dns.example"), c.tls.pins[1].name);
		CPPUNIT_ASSERT_EQUAL(PIN_B, c.tls.pins[1].sha256Base64);
		CPPUNIT_ASSERT_EQUAL(size_t(32), c.tls.pins[0].sha256.size());
		CPPUNIT_ASSERT_EQUAL(uint8_t(0), c.tls.pins[0].sha256[0]);
		CPPUNIT_ASSERT_EQUAL(uint8_t(31), c.tls.pins[0].sha256[31]);
		CPPUNIT_ASSERT_EQUAL(uint8_t(32), c.tls.pins[1].sha256[0]);
	}

	void testRejectsPinWithBadBase64()
	{
		for (const std::string& pin :
			 {std::string("!!notbase64!!"), PIN_A.substr(1), "A===" + PIN_A.substr(4), PIN_A + "===="})
		{
			const std::string message = errorOf("", {{"tls.pins", "dns.example:" + pin}});
			CPPUNIT_ASSERT_MESSAGE(message, startsWith(message, "tls.pins: bad base64 '" + pin + "'"));
		}
		CPPUNIT_ASSERT(startsWith(errorOf("", {{"tls.pins", PIN_A}}), "tls.pins: expected auth-name:base64-sha256"));
	}

	void testRejectsPinWithWrongLength()
	{
		const std::string message = errorOf("", {{"tls.pins", "dns.example:" + PIN_31}});
		CPPUNIT_ASSERT_MESSAGE(message, startsWith(message, "tls.pins: wrong length 31 bytes"));
	}

	void testRejectsUnreadableCaFile()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("tls.ca_file: cannot read '/nonexistent/ca.pem': No such file or directory"),
							 errorOf("", {{"tls.ca_file", "/nonexistent/ca.pem"}}));
		CPPUNIT_ASSERT_EQUAL(std::string("tls.ca_file: cannot read '/tmp': Is a directory"),
							 errorOf("", {{"tls.ca_file", "/tmp"}}));
		CPPUNIT_ASSERT(
			startsWith(errorOf("", {{"tls.ca_file", "/nonexistent/ca.pem"}, {"tls.profile", "opportunistic"}}),
					   "tls.ca_file: cannot read"));
	}

	void testRejectsMinTtlAboveMaxTtl()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("cache.min_ttl: must not exceed cache.max_ttl (300 > 100)"),
							 errorOf("[cache]\nmin_ttl = 300\nmax_ttl = 100\n"));
	}

	void testChecksStorageFleetAndAdmin()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("storage.path: must not be empty"), errorOf("", {{"storage.path", ""}}));
		for (const std::string url :
			 {"http://r:6379", "redis://r", "redis://:6379", "redis://r:0", "redis://r:6379/x", "redis://[::1:6379"})
			CPPUNIT_ASSERT_MESSAGE(url, startsWith(errorOf("", {{"fleet.redis", url}}), "fleet.redis: expected "));
		for (const std::string url : {"redis://redis:6379", "redis://10.0.0.5:6380/2", "redis://[::1]:6379/0"})
			CPPUNIT_ASSERT_EQUAL(url, load("", {{"fleet.redis", url}}).fleet.redis);

		CPPUNIT_ASSERT_EQUAL(std::string(""), load("", {{"admin.listen", ""}}).admin.listen);
		CPPUNIT_ASSERT_EQUAL(std::string("[::1]:8053"), load("", {{"admin.listen", "[::1]:8053"}}).admin.listen);
		CPPUNIT_ASSERT(startsWith(errorOf("", {{"admin.listen", "localhost:8053"}}), "admin.listen: expected "));
		CPPUNIT_ASSERT(
			startsWith(errorOf("", {{"admin.listen", "127.0.0.1:53"}}), "admin.listen: 127.0.0.1:53 is also"));
	}

	void testAcceptsRedisCredentialsTlsAndSentinel()
	{
		for (const char* url :
			 {"redis://:pw@redis:6379", "redis://fleet:pw@10.0.0.5:6380/2", "rediss://:pw@redis.example:6380",
			  "redis+sentinel://:pw@s1:26379,s2:26379/mymaster", "redis+sentinel://[::1]:26379/m/3"})
			CPPUNIT_ASSERT_EQUAL(std::string(url), load("", {{"fleet.redis", url}}).fleet.redis);
		const std::string bad = "redis+sentinel://:hunter2@s_1!:26379/m";
		const std::string message = errorOf("", {{"fleet.redis", bad}});
		CPPUNIT_ASSERT(startsWith(message, "fleet.redis: expected "));
		CPPUNIT_ASSERT(message.find("hunter2") == std::string::npos); // the value holds a password
		CPPUNIT_ASSERT(
			startsWith(errorOf("", {{"fleet.ca_file", "/nonexistent/ca.pem"}}), "fleet.ca_file: cannot read"));
	}

	void testReadsFleetSecretFromFile()
	{
		const std::string path = _caFile + ".secret";
		std::ofstream(path) << "  from-a-file  \nsecond line ignored\n";
		CPPUNIT_ASSERT_EQUAL(std::string("from-a-file"), load("", {{"fleet.secret", "@" + path}}).fleet.secret);
		CPPUNIT_ASSERT_EQUAL(std::string("inline"), load("", {{"fleet.secret", "inline"}}).fleet.secret);
		std::ofstream(path) << "\n";
		CPPUNIT_ASSERT(startsWith(errorOf("", {{"fleet.secret", "@" + path}}), "fleet.secret: "));
		std::remove(path.c_str());
		CPPUNIT_ASSERT(startsWith(errorOf("", {{"fleet.secret", "@" + path}}), "fleet.secret: cannot read"));
	}

	void testNeverPrintsRedisPasswordOrSecret()
	{
		const std::string ini = ConfigLoader::toIni(
			load("", {{"fleet.redis", "rediss://fleet:hunter2@r:6380"}, {"fleet.secret", "s3cret-Secret"}}));
		CPPUNIT_ASSERT(ini.find("hunter2") == std::string::npos);
		CPPUNIT_ASSERT(ini.find("s3cret-Secret") == std::string::npos);
		CPPUNIT_ASSERT(ini.find("\nredis = rediss://fleet:(set)@r:6380\n") != std::string::npos);
		CPPUNIT_ASSERT(ini.find("\nsecret = (set)\n") != std::string::npos);
	}

	void testToIniRoundTrips()
	{
		const Config c = load("", {{"server.listen", "[::1]:5353, 127.0.0.1:5353"},
								   {"server.protocols", "udp"},
								   {"server.allow", "10.0.0.0/8, ::1"},
								   {"upstream.servers", "[2620:fe::fe]:853#dns.quad9.net, 9.9.9.9"},
								   {"upstream.strategy", "fastest"},
								   {"tls.pins", "dns.quad9.net:" + PIN_A},
								   {"tls.pin_policy", "off"},
								   {"cache.min_ttl", "60"},
								   {"fleet.redis", "redis://r:6379/1"},
								   {"admin.token", "s3cret"},
								   {"log.queries", "yes"}});
		const Config back = ConfigLoader::loadString(ConfigLoader::toIni(c), {});
		CPPUNIT_ASSERT_EQUAL(ConfigLoader::toIni(c), ConfigLoader::toIni(back));
		CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5353"), back.server.listen[0].toString());
		CPPUNIT_ASSERT(back.server.udp && !back.server.tcp);
		CPPUNIT_ASSERT_EQUAL(std::string("::1"), back.server.allow[1].text);
		CPPUNIT_ASSERT_EQUAL(std::string("dns.quad9.net"), back.upstream.servers[0].authName);
		CPPUNIT_ASSERT_EQUAL(std::string("9.9.9.9:853"), back.upstream.servers[1].endpoint());
		CPPUNIT_ASSERT(back.upstream.strategy == dnsproxy::upstream::SelectionStrategy::FASTEST);
		CPPUNIT_ASSERT_EQUAL(PIN_A, back.tls.pins[0].sha256Base64);
		CPPUNIT_ASSERT(back.tls.pinPolicy == PinPolicy::OFF);
		CPPUNIT_ASSERT_EQUAL(60u, back.cache.minTtl);
		CPPUNIT_ASSERT_EQUAL(std::string("redis://r:6379/1"), back.fleet.redis);
		CPPUNIT_ASSERT_EQUAL(std::string(ConfigLoader::TOKEN_SET), back.admin.token); // the secret is never printed
		CPPUNIT_ASSERT(back.log.queries);
		CPPUNIT_ASSERT_EQUAL(_caFile, back.tls.caFile);
	}

	void testToIniListsEveryTableKey()
	{
		const std::string ini = ConfigLoader::toIni(load(""));
		for (const auto& key : configKeys())
		{
			const auto start = ini.find("[" + key.section + "]\n");
			CPPUNIT_ASSERT_MESSAGE(key.section, start != std::string::npos);
			const auto end = ini.find("\n[", start + 1);
			const std::string body = ini.substr(start, end == std::string::npos ? std::string::npos : end - start);
			CPPUNIT_ASSERT_MESSAGE(key.fullName(), body.find("\n" + key.name + " = ") != std::string::npos);
		}
	}

	void testParseHostPortDefaultsPort()
	{
		const auto v4 = ConfigLoader::parseHostPort("192.0.2.1", 853);
		CPPUNIT_ASSERT(v4.has_value());
		CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:853"), v4->toString());
		const auto v6 = ConfigLoader::parseHostPort("[2001:DB8:0::1]", 853);
		CPPUNIT_ASSERT(v6.has_value());
		CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::1]:853"), v6->toString());
		const auto bare6 = ConfigLoader::parseHostPort("::1", 53);
		CPPUNIT_ASSERT(bare6.has_value());
		CPPUNIT_ASSERT_EQUAL(std::string("[::1]:53"), bare6->toString());
		const auto withPort = ConfigLoader::parseHostPort(" 10.1.2.3:65535 ", 53);
		CPPUNIT_ASSERT(withPort.has_value());
		CPPUNIT_ASSERT_EQUAL(uint16_t(65535), withPort->port);
	}

	void testParseHostPortRejectsNamesAndBadPorts()
	{
		for (const std::string text : {"", "localhost", "localhost:53", "1.2.3.4:", "1.2.3.4:x", "1.2.3.4:0",
									   "1.2.3.4:70000", "[::1]x", "[::1]:", "1.2.3", "01.2.3.4"})
			CPPUNIT_ASSERT_MESSAGE(text, !ConfigLoader::parseHostPort(text, 53).has_value());
	}

	void testParseCidrTreatsBareAddressAsHost()
	{
		const auto v4 = ConfigLoader::parseCidr("192.0.2.7");
		CPPUNIT_ASSERT(v4.has_value());
		CPPUNIT_ASSERT_EQUAL(32u, v4->network.bits);
		const auto v6 = ConfigLoader::parseCidr("fc00::/7");
		CPPUNIT_ASSERT(v6.has_value());
		CPPUNIT_ASSERT(v6->network.ipv6);
		CPPUNIT_ASSERT_EQUAL(7u, v6->network.bits);
		CPPUNIT_ASSERT_EQUAL(std::string("fc00::/7"), v6->text);
	}

	void testListenAddressAndEndpointBracketIpv6()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:53"), (ListenAddress{"127.0.0.1", 53}).toString());
		CPPUNIT_ASSERT_EQUAL(std::string("[::1]:53"), (ListenAddress{"::1", 53}).toString());
		CPPUNIT_ASSERT_EQUAL(std::string("[2606:4700::1111]:853"),
							 (UpstreamServerConfig{"2606:4700::1111", 853, "x"}).endpoint());
	}

	void testToIniHidesTheToken()
	{
		const std::string ini = ConfigLoader::toIni(load("", {{"admin.token", "s3cret-Token"}}));
		CPPUNIT_ASSERT(ini.find("s3cret-Token") == std::string::npos);
		CPPUNIT_ASSERT(ini.find("\ntoken = (set)\n") != std::string::npos);
		CPPUNIT_ASSERT(ConfigLoader::toIni(load("")).find("\ntoken = \n") != std::string::npos);
	}

	void testUdpPayloadSizeIsCappedAt4096()
	{
		for (const std::string value : {"4097", "65535"})
			CPPUNIT_ASSERT_EQUAL(
				std::string("server.udp_payload_size: expected an integer between 512 and 4096, got '") + value + "'",
				errorOf("", {{"server.udp_payload_size", value}}));
		CPPUNIT_ASSERT_EQUAL(uint16_t(4096), load("", {{"server.udp_payload_size", "4096"}}).server.udpPayloadSize);
		CPPUNIT_ASSERT_EQUAL(uint16_t(512), load("", {{"server.udp_payload_size", "512"}}).server.udpPayloadSize);
	}

	void testUserMustExist()
	{
		CPPUNIT_ASSERT_EQUAL(std::string(""), load("").server.user);
		CPPUNIT_ASSERT_EQUAL(std::string("root"), load("", {{"server.user", "root"}}).server.user);
		CPPUNIT_ASSERT_EQUAL(std::string("server.user: no user 'no-such-user-dnsproxy' on this system"),
							 errorOf("", {{"server.user", "no-such-user-dnsproxy"}}));
	}

	void testWarnsWhenPublicNetworksReachAListenerBeyondLoopback()
	{
		const std::string open =
			ConfigLoader::exposureWarning(load("", {{"server.listen", "0.0.0.0:53"}, {"server.allow", "0.0.0.0/0"}}));
		CPPUNIT_ASSERT(open.find("0.0.0.0/0") != std::string::npos);
		CPPUNIT_ASSERT(open.find("server.listen 0.0.0.0:53") != std::string::npos);
		CPPUNIT_ASSERT(open.find('\n') == std::string::npos);
		// The admin API beyond loopback counts too; a public IPv6 network or one public host is enough.
		const std::string admin = ConfigLoader::exposureWarning(
			load("", {{"admin.listen", "[::]:8053"}, {"server.allow", "10.0.0.0/8, 2001:db8::/32"}}));
		CPPUNIT_ASSERT(admin.find("admin.listen [::]:8053") != std::string::npos);
		CPPUNIT_ASSERT(admin.find("2001:db8::/32") != std::string::npos);
		CPPUNIT_ASSERT(admin.find("10.0.0.0/8") == std::string::npos);
		CPPUNIT_ASSERT(!ConfigLoader::exposureWarning(
							load("", {{"server.listen", "192.0.2.1:53"}, {"server.allow", "198.51.100.7"}}))
							.empty());
		// 172.32/12 lies just beyond RFC 1918's 172.16/12.
		CPPUNIT_ASSERT(!ConfigLoader::exposureWarning(
							load("", {{"server.listen", "0.0.0.0:53"}, {"server.allow", "172.16.0.0/11"}}))
							.empty());
	}

	void testNoExposureWarningForPrivateNetworksOrLoopback()
	{
		CPPUNIT_ASSERT_EQUAL(std::string(), ConfigLoader::exposureWarning(load("")));
		// The container's configuration: wildcard listeners, default (private) allow.
		CPPUNIT_ASSERT_EQUAL(std::string(),
							 ConfigLoader::exposureWarning(
								 load("", {{"server.listen", "0.0.0.0:53"}, {"admin.listen", "0.0.0.0:8053"}})));
		CPPUNIT_ASSERT_EQUAL(std::string(), ConfigLoader::exposureWarning(
												load("", {{"server.listen", "0.0.0.0:53"},
														  {"server.allow", "169.254.0.0/16, fe80::/10, "
																		   "::ffff:10.0.0.0/104, 10.1.0.0/16"}})));
		// Everybody allowed, but only loopback listens.
		CPPUNIT_ASSERT_EQUAL(std::string(),
							 ConfigLoader::exposureWarning(load("", {{"server.listen", "127.0.0.1:53, [::1]:53"},
																	 {"server.allow", "0.0.0.0/0, ::/0"}})));
	}

private:
	/// Loads INI text with the test's readable CA file (given first, so `defines` can still replace it).
	Config load(const std::string& ini, Defines defines = {}) const
	{
		defines.insert(defines.begin(), {"tls.ca_file", _caFile});
		return ConfigLoader::loadString(ini, defines);
	}

	/// The what() of the ConfigError that `action` throws; fails the test if it throws none.
	static std::string errorOf(const std::function<void()>& action)
	{
		try
		{
			action();
		}
		catch (const ConfigError& e)
		{
			return e.what();
		}
		CPPUNIT_FAIL("expected a ConfigError");
		return {};
	}

	std::string errorOf(const std::string& ini, const Defines& defines = {}) const
	{
		return errorOf([&] { load(ini, defines); });
	}

	std::string _caFile;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ConfigLoaderTest, "app");
CPPUNIT_REGISTRY_ADD("app", "unit");
