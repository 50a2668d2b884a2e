// Http2SessionTest.cpp - DoH over HTTP/2 against a real nghttp2 client session, memory to memory.
#include "frontend/doh/DohSession.h"

#include "DohTestHelpers.h"
#include "H2TestClient.h"

#include <cppunit/extensions/HelperMacros.h>

#include <random>

using namespace dnsproxy;
using namespace dnsproxy::frontend::doh;
using Fields = std::vector<std::pair<std::string, std::string>>;

class Http2SessionTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(Http2SessionTest);
	CPPUNIT_TEST(testServerSettingsAnnounceLimits);
	CPPUNIT_TEST(testPostAnsweredWithDnsMessage);
	CPPUNIT_TEST(testGetDecodesDnsParameter);
	CPPUNIT_TEST(testAnswerFromInsideOnQuery);
	CPPUNIT_TEST(testWrongPathIs404);
	CPPUNIT_TEST(testOtherMethodIs405WithAllow);
	CPPUNIT_TEST(testWrongContentTypeIs415);
	CPPUNIT_TEST(testOversizedBodyIs413BeforeItEnds);
	CPPUNIT_TEST(testLargeContentLengthIs413);
	CPPUNIT_TEST(testShortMessageIs400);
	CPPUNIT_TEST(testBadGetIs400);
	CPPUNIT_TEST(testHugeHeaderIs431);
	CPPUNIT_TEST(testFailGivesStatus);
	CPPUNIT_TEST(testStreamResetThenAnswerIsIgnored);
	CPPUNIT_TEST(testStreamsOverLimitRefused);
	CPPUNIT_TEST(testResetStreamsStillCountUntilAnswered);
	CPPUNIT_TEST(testBadPrefaceIsFatal);
	CPPUNIT_TEST(testGracefulCloseFinishesInFlight);
	CPPUNIT_TEST(testSurvivesMutatedInput);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_handler = test::RecordingHandler();
		_session = DohSession::http2(_settings, _handler);
		_client = std::make_unique<test::H2TestClient>();
	}

	void testServerSettingsAnnounceLimits()
	{
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(uint32_t(100), _client->remoteSetting(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
		CPPUNIT_ASSERT_EQUAL(uint32_t(16384), _client->remoteSetting(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE));
		CPPUNIT_ASSERT(!_session->wantsClose());
	}

	void testPostAnsweredWithDnsMessage()
	{
		const auto query = test::dohQuery();
		const int32_t stream = post(query);
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size());
		CPPUNIT_ASSERT(query == _handler.queries[0].second);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _session->openRequests());
		const auto answer = test::dohAnswer(120);
		_session->answer(_handler.queries[0].first, answer.data(), answer.size());
		CPPUNIT_ASSERT_EQUAL(size_t(0), _session->openRequests());
		CPPUNIT_ASSERT(_client->exchange(*_session));
		const test::H2Response& response = _client->responses[stream];
		CPPUNIT_ASSERT_EQUAL(200, response.status());
		CPPUNIT_ASSERT_EQUAL(std::string("application/dns-message"), response.headers.at("content-type"));
		CPPUNIT_ASSERT_EQUAL(std::string("max-age=120"), response.headers.at("cache-control"));
		CPPUNIT_ASSERT_EQUAL(std::to_string(answer.size()), response.headers.at("content-length"));
		CPPUNIT_ASSERT(answer == response.body);
		CPPUNIT_ASSERT(response.closed);
		CPPUNIT_ASSERT_EQUAL(uint32_t(NGHTTP2_NO_ERROR), response.errorCode);
	}

	void testGetDecodesDnsParameter()
	{
		const auto query = test::dohQuery();
		const int32_t stream = _client->request("GET", "/dns-query?dns=" + test::base64Url(query));
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size());
		CPPUNIT_ASSERT(query == _handler.queries[0].second);
		_session->fail(_handler.queries[0].first, 503);
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(503, _client->responses[stream].status());
	}

	void testAnswerFromInsideOnQuery()
	{
		_handler.session = _session.get();
		_handler.answerAtOnce = test::dohAnswer();
		const int32_t first = post(test::dohQuery()), second = post(test::dohQuery());
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT(_handler.answerAtOnce == _client->responses[first].body);
		CPPUNIT_ASSERT(_handler.answerAtOnce == _client->responses[second].body);
	}

	void testWrongPathIs404()
	{
		CPPUNIT_ASSERT_EQUAL(404, statusOf(_client->request("GET", "/other?dns=AAAA")));
	}

	void testOtherMethodIs405WithAllow()
	{
		const int32_t stream = _client->request("PUT", "/dns-query", {}, test::dohQuery());
		CPPUNIT_ASSERT_EQUAL(405, statusOf(stream));
		CPPUNIT_ASSERT_EQUAL(std::string("GET, POST"), _client->responses[stream].headers.at("allow"));
	}

	void testWrongContentTypeIs415()
	{
		CPPUNIT_ASSERT_EQUAL(
			415, statusOf(_client->request("POST", "/dns-query", {{"content-type", "text/plain"}}, test::dohQuery())));
	}

	void testOversizedBodyIs413BeforeItEnds()
	{
		_settings.maxRequestBytes = 100;
		setUp();
		// No content-length: the DATA itself crosses the limit, and the upload is stopped.
		const int32_t stream = post(std::vector<uint8_t>(5000, 0x41));
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(413, _client->responses[stream].status());
		CPPUNIT_ASSERT(_client->responses[stream].closed);
		CPPUNIT_ASSERT(_handler.queries.empty());
		CPPUNIT_ASSERT(!_session->wantsClose());
		CPPUNIT_ASSERT_EQUAL(200, statusAfterAnswer(post(test::dohQuery()))); // the connection goes on
	}

	void testLargeContentLengthIs413()
	{
		// Answered from the head alone, while the body is still being uploaded.
		const int32_t stream = _client->request(
			"POST", "/dns-query", {{"content-type", "application/dns-message"}, {"content-length", "70000"}},
			std::vector<uint8_t>(70000, 0x41));
		CPPUNIT_ASSERT_EQUAL(413, statusOf(stream));
		// A body of that size is read to its end and dropped: the client gets its answer cleanly.
		CPPUNIT_ASSERT_EQUAL(uint32_t(NGHTTP2_NO_ERROR), _client->responses[stream].errorCode);
		CPPUNIT_ASSERT_EQUAL(size_t(0), _client->uploadLeft(stream));
		CPPUNIT_ASSERT(_handler.queries.empty());
		CPPUNIT_ASSERT(!_session->wantsClose());

		// An upload that goes on past a megabyte is cut (RFC 9113 8.1: RST_STREAM NO_ERROR), the
		// response kept: a client cannot make the proxy read an endless body.
		const int32_t endless = _client->request(
			"POST", "/dns-query", {{"content-type", "application/dns-message"}, {"content-length", "4000000"}},
			std::vector<uint8_t>(4000000, 0x41));
		CPPUNIT_ASSERT_EQUAL(413, statusOf(endless));
		CPPUNIT_ASSERT(_client->uploadLeft(endless) > 0);
		CPPUNIT_ASSERT(_handler.queries.empty());
	}

	void testShortMessageIs400()
	{
		CPPUNIT_ASSERT_EQUAL(400, statusOf(post(std::vector<uint8_t>(11, 0))));
		CPPUNIT_ASSERT(_handler.queries.empty());
	}

	void testBadGetIs400()
	{
		CPPUNIT_ASSERT_EQUAL(400, statusOf(_client->request("GET", "/dns-query")));
		CPPUNIT_ASSERT_EQUAL(400, statusOf(_client->request("GET", "/dns-query?dns=%%%")));
	}

	void testHugeHeaderIs431()
	{
		const int32_t stream = _client->request("GET", "/dns-query?dns=" + test::base64Url(test::dohQuery()),
												{{"x-big", std::string(_settings.maxHeaderBytes, 'a')}});
		CPPUNIT_ASSERT_EQUAL(431, statusOf(stream));
		CPPUNIT_ASSERT(_handler.queries.empty());
	}

	void testFailGivesStatus()
	{
		const int32_t stream = post(test::dohQuery());
		CPPUNIT_ASSERT(_client->exchange(*_session));
		_session->fail(_handler.queries[0].first, 504);
		_session->fail(_handler.queries[0].first, 502); // a second verdict is ignored
		const auto answer = test::dohAnswer();
		_session->answer(_handler.queries[0].first, answer.data(), answer.size());
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(504, _client->responses[stream].status());
		CPPUNIT_ASSERT(_client->responses[stream].body.empty());
	}

	void testStreamResetThenAnswerIsIgnored()
	{
		const int32_t stream = post(test::dohQuery());
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _handler.queries.size());
		_client->reset(stream);
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _session->openRequests()); // the owner still owes a verdict
		const size_t before = _client->serverBytes;
		const auto answer = test::dohAnswer();
		_session->answer(_handler.queries[0].first, answer.data(), answer.size());
		_session->fail(_handler.queries[0].first, 504);
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(before, _client->serverBytes); // nothing sent for the dead stream
		CPPUNIT_ASSERT_EQUAL(size_t(0), _session->openRequests());
		CPPUNIT_ASSERT(!_session->wantsClose());
		CPPUNIT_ASSERT_EQUAL(200, statusAfterAnswer(post(test::dohQuery())));
	}

	void testStreamsOverLimitRefused()
	{
		_settings.maxStreams = 2;
		setUp();
		// Sent before the client has seen the server's SETTINGS, so it does not hold the third back.
		const int32_t a = post(test::dohQuery()), b = post(test::dohQuery()), c = post(test::dohQuery());
		const auto bytes = _client->pendingBytes();
		CPPUNIT_ASSERT(_session->feed(bytes.data(), bytes.size()));
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(size_t(2), _handler.queries.size());
		CPPUNIT_ASSERT_EQUAL(uint32_t(NGHTTP2_REFUSED_STREAM), _client->responses[c].errorCode);
		CPPUNIT_ASSERT(!_session->wantsClose());
		answerAll();
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(200, _client->responses[a].status());
		CPPUNIT_ASSERT_EQUAL(200, _client->responses[b].status());
	}

	void testResetStreamsStillCountUntilAnswered()
	{
		_settings.maxStreams = 2;
		setUp();
		CPPUNIT_ASSERT(_client->exchange(*_session)); // SETTINGS seen: the client keeps to 2 open streams
		for (int i = 0; i < 2; ++i)
		{
			const int32_t stream = post(test::dohQuery());
			CPPUNIT_ASSERT(_client->exchange(*_session));
			_client->reset(stream);
			CPPUNIT_ASSERT(_client->exchange(*_session));
		}
		CPPUNIT_ASSERT_EQUAL(size_t(2), _session->openRequests());
		const int32_t refused = post(test::dohQuery());
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(size_t(2), _handler.queries.size()); // no third query of work
		CPPUNIT_ASSERT_EQUAL(uint32_t(NGHTTP2_REFUSED_STREAM), _client->responses[refused].errorCode);
		answerAll();
		CPPUNIT_ASSERT_EQUAL(200, statusAfterAnswer(post(test::dohQuery())));
	}

	void testBadPrefaceIsFatal()
	{
		const std::string http1 = "GET /dns-query HTTP/1.1\r\nHost: x\r\n\r\n";
		CPPUNIT_ASSERT(!_session->feed(reinterpret_cast<const uint8_t*>(http1.data()), http1.size()));
		CPPUNIT_ASSERT(_session->wantsClose());
		std::vector<uint8_t> out;
		_session->takeOutput(out);
		CPPUNIT_ASSERT(!out.empty()); // SETTINGS and GOAWAY
		CPPUNIT_ASSERT(_handler.queries.empty());
	}

	void testGracefulCloseFinishesInFlight()
	{
		const int32_t stream = post(test::dohQuery());
		CPPUNIT_ASSERT(_client->exchange(*_session));
		_session->closeGracefully();
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(int64_t(NGHTTP2_NO_ERROR), _client->goAwayError);
		CPPUNIT_ASSERT(!_session->wantsClose());
		answerAll();
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT_EQUAL(200, _client->responses[stream].status());
		CPPUNIT_ASSERT(_session->wantsClose());
	}

	void testSurvivesMutatedInput()
	{
		// A small deterministic fuzz: a valid client byte stream (preface, SETTINGS, requests) with
		// octets overwritten after the preface, fed in random pieces. Nothing may crash (run it under
		// ASan); every query handed out can be answered; output stays bounded by the requests.
		std::mt19937 random(8484);
		for (int round = 0; round < 500; ++round)
		{
			setUp();
			post(test::dohQuery());
			_client->request("GET", "/dns-query?dns=" + test::base64Url(test::dohQuery()));
			post(std::vector<uint8_t>(300, 0x41));
			auto input = _client->pendingBytes();
			for (int i = 0; i < 3; ++i)
				input[24 + random() % (input.size() - 24)] = static_cast<uint8_t>(random());
			size_t at = 0, answered = 0, output = 0;
			bool fine = true;
			while (at < input.size() && fine)
			{
				const size_t piece = std::min<size_t>(1 + random() % 64, input.size() - at);
				fine = _session->feed(input.data() + at, piece);
				at += piece;
				if (answered < _handler.queries.size())
					answerAll(); // the earlier ones again too: ignored
				answered = _handler.queries.size();
				std::vector<uint8_t> out;
				_session->takeOutput(out);
				output += out.size();
			}
			CPPUNIT_ASSERT_EQUAL(size_t(0), _session->openRequests());
			CPPUNIT_ASSERT(output < 4096);
		}
	}

private:
	int32_t post(const std::vector<uint8_t>& body)
	{
		return _client->request("POST", "/dns-query", {{"content-type", "application/dns-message"}}, body);
	}

	/// Runs the exchange and returns the status the stream got without any answer() call.
	int statusOf(int32_t stream)
	{
		CPPUNIT_ASSERT(_client->exchange(*_session));
		CPPUNIT_ASSERT(_client->responses[stream].closed);
		return _client->responses[stream].status();
	}

	/// Runs the exchange, answers every open query, and returns the stream's status.
	int statusAfterAnswer(int32_t stream)
	{
		CPPUNIT_ASSERT(_client->exchange(*_session));
		answerAll();
		CPPUNIT_ASSERT(_client->exchange(*_session));
		return _client->responses[stream].status();
	}

	void answerAll()
	{
		const auto answer = test::dohAnswer();
		for (const auto& [id, query] : _handler.queries)
			_session->answer(id, answer.data(), answer.size());
	}

	DohSettings _settings;
	test::RecordingHandler _handler;
	std::unique_ptr<DohSession> _session;
	std::unique_ptr<test::H2TestClient> _client;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(Http2SessionTest, "doh");
