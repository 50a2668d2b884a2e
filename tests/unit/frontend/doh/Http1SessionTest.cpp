// Http1SessionTest.cpp - DoH over HTTP/1.1 from crafted request bytes: routing, errors, keep-alive, pipelining.
#include "frontend/doh/DohSession.h"

#include "DohTestHelpers.h"

#include <cppunit/extensions/HelperMacros.h>

#include <random>

using namespace dnsproxy;
using namespace dnsproxy::frontend::doh;

class Http1SessionTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(Http1SessionTest);
	CPPUNIT_TEST(testPostAnsweredWithDnsMessage);
	CPPUNIT_TEST(testGetDecodesDnsParameter);
	CPPUNIT_TEST(testAnswerFromInsideOnQuery);
	CPPUNIT_TEST(testRequestSplitAcrossFeeds);
	CPPUNIT_TEST(testWrongPathIs404AndKeepsConnection);
	CPPUNIT_TEST(testOtherMethodIs405WithAllow);
	CPPUNIT_TEST(testWrongContentTypeIs415AndBodySkipped);
	CPPUNIT_TEST(testLargeContentLengthIs413AndCloses);
	CPPUNIT_TEST(testShortMessageIs400);
	CPPUNIT_TEST(testMalformedRequestLineIs400AndFatal);
	CPPUNIT_TEST(testUnknownVersionIs400);
	CPPUNIT_TEST(testHugeHeaderIs431);
	CPPUNIT_TEST(testChunkedBodyIs501);
	CPPUNIT_TEST(testPostWithoutLengthIs411);
	CPPUNIT_TEST(testPipelinedAnswersLeaveInOrder);
	CPPUNIT_TEST(testErrorBehindPendingAnswerWaits);
	CPPUNIT_TEST(testConnectionCloseHonoured);
	CPPUNIT_TEST(testHttp10ClosesUnlessKeepAlive);
	CPPUNIT_TEST(testPausesAtMaxStreams);
	CPPUNIT_TEST(testFailGivesStatus);
	CPPUNIT_TEST(testGracefulCloseAfterInFlight);
	CPPUNIT_TEST(testSurvivesMutatedInput);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_handler = test::RecordingHandler();
		_session = DohSession::http1(_settings, _handler);
	}

	void testPostAnsweredWithDnsMessage()
	{
		const auto query = test::dohQuery();
		CPPUNIT_ASSERT(feed(post(query)));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size());
		CPPUNIT_ASSERT(query == _handler.queries[0].second);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _session->openRequests());
		CPPUNIT_ASSERT_EQUAL(std::string(), output()); // nothing before the answer
		const auto answer = test::dohAnswer(120);
		_session->answer(_handler.queries[0].first, answer.data(), answer.size());
		CPPUNIT_ASSERT_EQUAL(size_t(0), _session->openRequests());
		const std::string response = output();
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 200 OK\r\n"
										 "Content-Type: application/dns-message\r\n"
										 "Cache-Control: max-age=120\r\n"
										 "Content-Length: " +
										 std::to_string(answer.size()) + "\r\n\r\n" + text(answer)),
							 response);
		CPPUNIT_ASSERT(!_session->wantsClose());
	}

	void testGetDecodesDnsParameter()
	{
		const auto query = test::dohQuery();
		CPPUNIT_ASSERT(feed("GET /dns-query?dns=" + test::base64Url(query) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size());
		CPPUNIT_ASSERT(query == _handler.queries[0].second); // ID 0 untouched
	}

	void testAnswerFromInsideOnQuery()
	{
		_handler.session = _session.get();
		_handler.answerAtOnce = test::dohAnswer();
		CPPUNIT_ASSERT(feed(post(test::dohQuery()) + post(test::dohQuery())));
		const std::string out = output();
		CPPUNIT_ASSERT_EQUAL(size_t(2), count(out, "HTTP/1.1 200 OK"));
		CPPUNIT_ASSERT_EQUAL(size_t(0), _session->openRequests());
	}

	void testRequestSplitAcrossFeeds()
	{
		const std::string request = post(test::dohQuery());
		for (const char c : request)
			CPPUNIT_ASSERT(feed(std::string(1, c)));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size());
		CPPUNIT_ASSERT(test::dohQuery() == _handler.queries[0].second);
	}

	void testWrongPathIs404AndKeepsConnection()
	{
		CPPUNIT_ASSERT(feed("GET /other?dns=AAAA HTTP/1.1\r\n\r\n" + post(test::dohQuery())));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 404 Not Found\r\n"));
		CPPUNIT_ASSERT(!_session->wantsClose());
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size()); // the next request still served
	}

	void testOtherMethodIs405WithAllow()
	{
		CPPUNIT_ASSERT(feed("PUT /dns-query HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc" + post(test::dohQuery())));
		const std::string out = output();
		CPPUNIT_ASSERT(startsWith(out, "HTTP/1.1 405 Method Not Allowed\r\n"));
		CPPUNIT_ASSERT(out.find("Allow: GET, POST\r\n") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size()); // body skipped, stream in sync
	}

	void testWrongContentTypeIs415AndBodySkipped()
	{
		CPPUNIT_ASSERT(feed(post(test::dohQuery(), "text/plain") + post(test::dohQuery())));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 415 Unsupported Media Type\r\n"));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size());
	}

	void testLargeContentLengthIs413AndCloses()
	{
		// Over the limit but under a megabyte: 413 at once, the body dropped as it comes, and the
		// connection goes on (a client still uploading is not reset before it reads the answer).
		CPPUNIT_ASSERT(feed("POST /dns-query HTTP/1.1\r\nContent-Type: application/dns-message\r\n"
							"Content-Length: 70000\r\n\r\n"));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 413 Content Too Large\r\n"));
		for (int i = 0; i < 7; ++i)
			CPPUNIT_ASSERT(feed(std::string(10000, 'A')));
		CPPUNIT_ASSERT(!_session->wantsClose());
		CPPUNIT_ASSERT(feed(post(test::dohQuery())));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size()); // the next request is read

		// Past a megabyte it is not worth reading: 413 and the connection closes.
		setUp();
		const bool fine = feed("POST /dns-query HTTP/1.1\r\nContent-Type: application/dns-message\r\n"
							   "Content-Length: 2000000\r\n\r\n");
		CPPUNIT_ASSERT(!fine);
		const std::string out = output();
		CPPUNIT_ASSERT(startsWith(out, "HTTP/1.1 413 Content Too Large\r\n"));
		CPPUNIT_ASSERT(out.find("Connection: close\r\n") != std::string::npos);
		CPPUNIT_ASSERT(_session->wantsClose());
		CPPUNIT_ASSERT(_handler.queries.empty());
	}

	void testShortMessageIs400()
	{
		CPPUNIT_ASSERT(feed(post(std::vector<uint8_t>(11, 0))));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 400 Bad Request\r\n"));
		CPPUNIT_ASSERT(_handler.queries.empty());
		CPPUNIT_ASSERT(!_session->wantsClose());
	}

	void testMalformedRequestLineIs400AndFatal()
	{
		CPPUNIT_ASSERT(!feed("garbage\r\n\r\n"));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 400 Bad Request\r\n"));
		CPPUNIT_ASSERT(_session->wantsClose());
	}

	void testUnknownVersionIs400()
	{
		CPPUNIT_ASSERT(!feed("GET /dns-query?dns=AAAA XTTP/9\r\n\r\n"));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 400 Bad Request\r\n"));
	}

	void testHugeHeaderIs431()
	{
		// Before the end of the head arrives: as soon as more than maxHeaderBytes are buffered.
		CPPUNIT_ASSERT(!feed("GET /dns-query HTTP/1.1\r\nX-Big: " + std::string(_settings.maxHeaderBytes, 'a')));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
		CPPUNIT_ASSERT(_session->wantsClose());
	}

	void testChunkedBodyIs501()
	{
		CPPUNIT_ASSERT(!feed("POST /dns-query HTTP/1.1\r\nContent-Type: application/dns-message\r\n"
							 "Transfer-Encoding: chunked\r\n\r\n"));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 501 Not Implemented\r\n"));
	}

	void testPostWithoutLengthIs411()
	{
		CPPUNIT_ASSERT(!feed("POST /dns-query HTTP/1.1\r\nContent-Type: application/dns-message\r\n\r\n"));
		CPPUNIT_ASSERT(startsWith(output(), "HTTP/1.1 411 Length Required\r\n"));
	}

	void testPipelinedAnswersLeaveInOrder()
	{
		CPPUNIT_ASSERT(feed(post(query(1)) + post(query(2)) + post(query(3))));
		CPPUNIT_ASSERT_EQUAL(size_t(3), _handler.queries.size());
		answerWithId(2, 0xc3c3);
		answerWithId(1, 0xb2b2);
		CPPUNIT_ASSERT_EQUAL(std::string(), output()); // the first is not answered yet
		answerWithId(0, 0xa1a1);
		const std::string out = output();
		const size_t first = out.find("\xa1\xa1"), second = out.find("\xb2\xb2"), third = out.find("\xc3\xc3");
		CPPUNIT_ASSERT(first != std::string::npos && second != std::string::npos && third != std::string::npos);
		CPPUNIT_ASSERT(first < second && second < third);
		CPPUNIT_ASSERT_EQUAL(size_t(3), count(out, "HTTP/1.1 200 OK"));
	}

	void testErrorBehindPendingAnswerWaits()
	{
		CPPUNIT_ASSERT(feed(post(test::dohQuery()))); // pending
		CPPUNIT_ASSERT(feed("junk\r\n\r\n"));         // not fatal yet: the answer comes first
		CPPUNIT_ASSERT_EQUAL(std::string(), output());
		CPPUNIT_ASSERT(!_session->wantsClose());
		answerWithId(0, 0x1234);
		const std::string out = output();
		CPPUNIT_ASSERT(startsWith(out, "HTTP/1.1 200 OK\r\n"));
		CPPUNIT_ASSERT(out.find("HTTP/1.1 400 Bad Request\r\n") != std::string::npos);
		CPPUNIT_ASSERT(_session->wantsClose());
	}

	void testConnectionCloseHonoured()
	{
		CPPUNIT_ASSERT(
			feed(post(test::dohQuery(), "application/dns-message", "Connection: close\r\n") + post(test::dohQuery())));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size()); // nothing after it is read
		CPPUNIT_ASSERT(!_session->mayFeed());
		CPPUNIT_ASSERT(!_session->wantsClose());
		answerWithId(0, 0x1234);
		const std::string out = output();
		CPPUNIT_ASSERT(out.find("Connection: close\r\n") != std::string::npos);
		CPPUNIT_ASSERT(_session->wantsClose());
	}

	void testHttp10ClosesUnlessKeepAlive()
	{
		CPPUNIT_ASSERT(feed("GET /dns-query?dns=" + test::base64Url(test::dohQuery()) +
							" HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
		answerWithId(0, 1);
		CPPUNIT_ASSERT(output().find("Connection: keep-alive\r\n") != std::string::npos);
		CPPUNIT_ASSERT(!_session->wantsClose());
		CPPUNIT_ASSERT(feed("GET /dns-query?dns=" + test::base64Url(test::dohQuery()) + " HTTP/1.0\r\n\r\n"));
		answerWithId(1, 2);
		CPPUNIT_ASSERT(output().find("Connection: close\r\n") != std::string::npos);
		CPPUNIT_ASSERT(_session->wantsClose());
	}

	void testPausesAtMaxStreams()
	{
		_settings.maxStreams = 2;
		setUp();
		CPPUNIT_ASSERT(feed(post(query(1)) + post(query(2)) + post(query(3))));
		CPPUNIT_ASSERT_EQUAL(size_t(2), _handler.queries.size());
		CPPUNIT_ASSERT(!_session->mayFeed());
		answerWithId(1, 2);
		CPPUNIT_ASSERT_EQUAL(std::string(), output()); // still held behind the first
		CPPUNIT_ASSERT(!_session->mayFeed());
		answerWithId(0, 1);
		CPPUNIT_ASSERT_EQUAL(size_t(2), count(output(), "200 OK")); // room made: the third is parsed
		CPPUNIT_ASSERT_EQUAL(size_t(3), _handler.queries.size());
		CPPUNIT_ASSERT(_session->mayFeed());
	}

	void testFailGivesStatus()
	{
		CPPUNIT_ASSERT(feed(post(test::dohQuery())));
		_session->fail(_handler.queries[0].first, 504);
		_session->fail(_handler.queries[0].first, 502); // a second verdict is ignored
		CPPUNIT_ASSERT_EQUAL(std::string("HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\n\r\n"), output());
		CPPUNIT_ASSERT_EQUAL(size_t(0), _session->openRequests());
	}

	void testGracefulCloseAfterInFlight()
	{
		CPPUNIT_ASSERT(feed(post(test::dohQuery())));
		_session->closeGracefully();
		CPPUNIT_ASSERT(!_session->wantsClose());
		answerWithId(0, 1);
		CPPUNIT_ASSERT(output().find("Connection: close\r\n") != std::string::npos);
		CPPUNIT_ASSERT(_session->wantsClose());
	}

	void testSurvivesMutatedInput()
	{
		// A small deterministic fuzz: valid pipelined requests with octets overwritten, fed in random
		// pieces. Nothing may crash (run it under ASan) and every query gets its one response.
		std::mt19937 random(8484);
		const std::string valid = post(test::dohQuery()) + "GET /dns-query?dns=" + test::base64Url(test::dohQuery()) +
								  " HTTP/1.1\r\n\r\n" + post(test::dohQuery(), "text/plain");
		for (int round = 0; round < 500; ++round)
		{
			setUp();
			std::string input = valid + valid;
			for (int i = 0; i < 4; ++i)
				input[random() % input.size()] = static_cast<char>(random());
			size_t at = 0, answered = 0;
			while (at < input.size() && _session->mayFeed())
			{
				const size_t piece = std::min<size_t>(1 + random() % 64, input.size() - at);
				const bool fine = feed(input.substr(at, piece));
				at += piece;
				for (; answered < _handler.queries.size(); ++answered)
					answerWithId(answered, 1);
				output();
				if (!fine)
					break;
			}
			CPPUNIT_ASSERT_EQUAL(size_t(0), _session->openRequests());
		}
	}

private:
	bool feed(const std::string& bytes)
	{
		return _session->feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
	}

	std::string output()
	{
		std::vector<uint8_t> out;
		_session->takeOutput(out);
		return text(out);
	}

	static std::string text(const std::vector<uint8_t>& bytes)
	{
		return std::string(bytes.begin(), bytes.end());
	}

	static std::string post(const std::vector<uint8_t>& body, const std::string& type = "application/dns-message",
							const std::string& extra = "")
	{
		return "POST /dns-query HTTP/1.1\r\nHost: dns.example\r\nContent-Type: " + type +
			   "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + text(body);
	}

	static std::vector<uint8_t> query(uint16_t id)
	{
		auto q = test::dohQuery();
		q[0] = static_cast<uint8_t>(id >> 8), q[1] = static_cast<uint8_t>(id);
		return q;
	}

	/// Answers the index-th query with an answer whose ID is `marker`, so the order can be seen.
	void answerWithId(size_t index, uint16_t marker)
	{
		auto answer = test::dohAnswer();
		answer[0] = static_cast<uint8_t>(marker >> 8), answer[1] = static_cast<uint8_t>(marker);
		_session->answer(_handler.queries.at(index).first, answer.data(), answer.size());
	}

	static bool startsWith(const std::string& text, const std::string& prefix)
	{
		return text.compare(0, prefix.size(), prefix) == 0;
	}

	static size_t count(const std::string& text, const std::string& needle)
	{
		size_t n = 0;
		for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
			++n;
		return n;
	}

	DohSettings _settings;
	test::RecordingHandler _handler;
	std::unique_ptr<DohSession> _session;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(Http1SessionTest, "doh");
