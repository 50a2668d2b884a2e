// PrometheusViewTest.cpp - unit tests of PrometheusView: names, HELP/TYPE, labels, cumulative histogram.
#include "admin/PrometheusView.h"

#include "support/AdminTestData.h"

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <sstream>

using dnsproxy::admin::PrometheusView;

namespace
{

/// The exposition of sampleSnapshot(), which every test reads.
std::string sampleText()
{
	return PrometheusView::render(dnsproxy::test::sampleSnapshot());
}

bool contains(const std::string& text, const std::string& line)
{
	return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

/// Fails naming the first of `lines` that is not a whole line of `text`.
void assertHasLines(const std::string& text, std::initializer_list<std::string> lines)
{
	for (const auto& line : lines)
		CPPUNIT_ASSERT_MESSAGE("missing line: " + line, contains(text, line));
}

} // namespace

class PrometheusViewTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PrometheusViewTest);
	CPPUNIT_TEST(testEverySampleHasHelpAndTypeOfItsFamily);
	CPPUNIT_TEST(testCountersEndInTotal);
	CPPUNIT_TEST(testQueriesByTransportAndAnswersByRcode);
	CPPUNIT_TEST(testUpstreamSamplesCarryAddressAndNameLabels);
	CPPUNIT_TEST(testEscapesQuotesInLabelValues);
	CPPUNIT_TEST(testLatencyHistogramIsCumulativeInSeconds);
	CPPUNIT_TEST(testCacheAndPinFigures);
	CPPUNIT_TEST(testFormatsNumbersShortestExact);
	CPPUNIT_TEST_SUITE_END();

public:
	void testEverySampleHasHelpAndTypeOfItsFamily()
	{
		const std::string text = sampleText();
		std::istringstream in(text);
		std::string line, help, type;
		std::set<std::string> families;
		while (std::getline(in, line))
		{
			CPPUNIT_ASSERT_MESSAGE("empty line", !line.empty());
			if (line.rfind("# HELP ", 0) == 0)
			{
				help = line.substr(7, line.find(' ', 7) - 7);
				CPPUNIT_ASSERT_MESSAGE("family twice: " + help, families.insert(help).second);
				continue;
			}
			if (line.rfind("# TYPE ", 0) == 0)
			{
				type = line.substr(7, line.find(' ', 7) - 7);
				CPPUNIT_ASSERT_EQUAL(help, type);
				continue;
			}
			const std::string name = line.substr(0, line.find_first_of("{ "));
			CPPUNIT_ASSERT_MESSAGE(name, name.rfind("dnsproxy_", 0) == 0);
			CPPUNIT_ASSERT_MESSAGE(name + " outside its family " + type, name == type || name == type + "_bucket" ||
																			 name == type + "_sum" ||
																			 name == type + "_count");
		}
		CPPUNIT_ASSERT(families.size() > 30);
	}

	void testCountersEndInTotal()
	{
		const std::string text = sampleText();
		std::istringstream in(text);
		std::string line;
		while (std::getline(in, line))
		{
			if (line.rfind("# TYPE ", 0) == 0 && line.size() > 8 && line.substr(line.size() - 8) == " counter")
			{
				const std::string name = line.substr(7, line.size() - 8 - 7);
				CPPUNIT_ASSERT_MESSAGE(name, name.size() > 6 && name.substr(name.size() - 6) == "_total");
			}
		}
	}

	void testQueriesByTransportAndAnswersByRcode()
	{
		const std::string text = sampleText();
		assertHasLines(text,
					   {"dnsproxy_queries_total{transport=\"udp\"} 70", "dnsproxy_queries_total{transport=\"tcp\"} 30",
						"dnsproxy_answers_total{rcode=\"NOERROR\"} 80", "dnsproxy_answers_total{rcode=\"SERVFAIL\"} 5",
						"dnsproxy_answers_total{rcode=\"NXDOMAIN\"} 15", "dnsproxy_answers_total{rcode=\"REFUSED\"} 0",
						"dnsproxy_answers_total{rcode=\"NOTAUTH\"} 1"});
		CPPUNIT_ASSERT(text.find("rcode=\"NOTZONE\"") == std::string::npos);
	}

	void testUpstreamSamplesCarryAddressAndNameLabels()
	{
		const std::string text = sampleText();
		const std::string labels = "{upstream=\"1.1.1.1:853\",name=\"cloudflare-dns.com\"}";
		assertHasLines(text,
					   {"dnsproxy_upstream_up" + labels + " 1", "dnsproxy_upstream_queries_total" + labels + " 40",
						"dnsproxy_upstream_connections_opened_total" + labels + " 2",
						"dnsproxy_upstream_tls_resumptions_total" + labels + " 1",
						"dnsproxy_upstream_timeouts_total" + labels + " 3"});
	}

	void testEscapesQuotesInLabelValues()
	{
		const std::string text = sampleText();
		CPPUNIT_ASSERT(
			contains(text, "dnsproxy_upstream_up{upstream=\"9.9.9.9:853\",name=\"dns.\\\"quad9\\\".net\"} 0"));
		CPPUNIT_ASSERT_EQUAL(std::string("a\\\\b\\nc\\\""), PrometheusView::escapeLabel("a\\b\nc\""));
	}

	void testLatencyHistogramIsCumulativeInSeconds()
	{
		const std::string text = sampleText();
		const std::string l = "upstream=\"1.1.1.1:853\",name=\"cloudflare-dns.com\"";
		assertHasLines(text, {"# TYPE dnsproxy_upstream_latency_seconds histogram",
							  "dnsproxy_upstream_latency_seconds_bucket{" + l + ",le=\"0.001\"} 10",
							  "dnsproxy_upstream_latency_seconds_bucket{" + l + ",le=\"0.002\"} 30",
							  "dnsproxy_upstream_latency_seconds_bucket{" + l + ",le=\"0.005\"} 35",
							  "dnsproxy_upstream_latency_seconds_bucket{" + l + ",le=\"+Inf\"} 36",
							  "dnsproxy_upstream_latency_seconds_sum{" + l + "} 0.1235",
							  "dnsproxy_upstream_latency_seconds_count{" + l + "} 36"});
	}

	void testCacheAndPinFigures()
	{
		const std::string text = sampleText();
		assertHasLines(text, {"dnsproxy_cache_entries 42", "dnsproxy_cache_hits_total 60",
							  "dnsproxy_cache_misses_total 40", "dnsproxy_cache_stale_served_total 2",
							  "dnsproxy_client_tcp_connections 3", "dnsproxy_pin_changes_total 8",
							  "dnsproxy_pin_refusals_total 9", "dnsproxy_uptime_seconds 12.5"});
	}

	void testFormatsNumbersShortestExact()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("0"), PrometheusView::formatNumber(0));
		CPPUNIT_ASSERT_EQUAL(std::string("18446744073709"), PrometheusView::formatNumber(18446744073709.0));
		CPPUNIT_ASSERT_EQUAL(std::string("0.0005"), PrometheusView::formatNumber(0.0005));
		CPPUNIT_ASSERT_EQUAL(std::string("0.1"), PrometheusView::formatNumber(0.1));
		CPPUNIT_ASSERT_EQUAL(std::string("+Inf"), PrometheusView::formatNumber(1.0 / 0.0));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PrometheusViewTest, "admin");
