// DotSessionTest.cpp - ID remapping and collisions, answer matching, timeouts and the retry rule; fake clock, no
// socket.
#include "upstream/DotSession.h"

#include "dns/Header.h"
#include "support/FakeTime.h"
#include "support/PacketBuilder.h"

#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

using namespace dnsproxy;
using dnsproxy::test::PacketBuilder;
using dnsproxy::test::T0;
using dnsproxy::test::takeTcpFrame;
using dnsproxy::test::tcpFramed;
using upstream::DotSession;
using upstream::UpstreamResult;
using namespace std::chrono_literals;

namespace
{

using Clock = DotSession::Clock;
std::vector<uint8_t> makeQuery(uint16_t id, const std::string& name = "example.com")
{
	return PacketBuilder().header(id, dns::Header::RD, 1, 0, 0, 0).question(name, dns::Type::A).data();
}

/// An empty NOERROR answer to `name` under message ID `id`.
std::vector<uint8_t> makeAnswer(uint16_t id, const std::string& name = "example.com")
{
	return PacketBuilder()
		.header(id, dns::Header::QR | dns::Header::RD | dns::Header::RA, 1, 0, 0, 0)
		.question(name, dns::Type::A)
		.data();
}

/// The messages a session wrote, split off their length prefixes; nothing may be left over.
std::vector<std::vector<uint8_t>> unframe(std::vector<uint8_t> output)
{
	std::vector<std::vector<uint8_t>> messages;
	while (auto message = takeTcpFrame(output))
	{
		CPPUNIT_ASSERT(!message->empty()); // a zero-length prefix is no DNS message
		messages.push_back(std::move(*message));
	}
	CPPUNIT_ASSERT(output.empty());
	return messages;
}

struct Harness
{
	stats::UpstreamStats stats;
	std::deque<uint16_t> ids; ///< scripted IDs; counts up from 100 when empty
	uint16_t nextId = 100;
	std::vector<std::string> faults;
	std::vector<std::pair<std::string, UpstreamResult>> results; ///< (query name tag, result)
	DotSession session;

	explicit Harness(uint32_t maxInflight = 100):
		session(
			maxInflight, stats,
			[this] {
				if (ids.empty())
					return nextId++;
				uint16_t id = ids.front();
				ids.pop_front();
				return id;
			},
			[this](const char* what, const std::string&) { faults.emplace_back(what); })
	{
	}

	void submit(const std::string& tag, uint16_t clientId, Clock::time_point now, Clock::duration timeout = 2s,
				const std::string& name = "example.com")
	{
		std::vector<uint8_t> query = makeQuery(clientId, name);
		dns::MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(dns::ParseError::NONE, dns::parseMessage(query.data(), query.size(), info));
		session.countSubmitted();
		DotSession::Pending pending{std::move(query), upstream::SentQuestion::of(info),
									[this, tag](UpstreamResult&& r) { results.emplace_back(tag, std::move(r)); },
									now + timeout, now};
		session.enqueue(std::move(pending));
	}

	std::vector<std::vector<uint8_t>> send(Clock::time_point now)
	{
		std::vector<uint8_t> output;
		session.sendWaiting(output, now);
		return unframe(output);
	}

	/// Two queries sent at T0 with the default timeout: "a" (client ID 1, a.example, upstream ID 100)
	/// and "b" (client ID 2, b.example, upstream ID 101).
	void sendTwoNames()
	{
		submit("a", 1, T0, 2s, "a.example");
		submit("b", 2, T0, 2s, "b.example");
		send(T0);
	}

	bool deliver(const std::vector<uint8_t>& message, Clock::time_point now)
	{
		auto bytes = tcpFramed(message);
		return session.received(bytes.data(), bytes.size(), now);
	}
};

} // namespace

class DotSessionTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(DotSessionTest);
	CPPUNIT_TEST(testIdIsRemappedAndClientIdRestored);
	CPPUNIT_TEST(testIdCollisionPicksAnotherId);
	CPPUNIT_TEST(testAnswersInAnyOrder);
	CPPUNIT_TEST(testAnswerSplitAcrossReads);
	CPPUNIT_TEST(testMaxInflightHoldsTheRest);
	CPPUNIT_TEST(testUnknownIdIsIgnored);
	CPPUNIT_TEST(testWrongQuestionDropsTheStream);
	CPPUNIT_TEST(testShortMessageDropsTheStream);
	CPPUNIT_TEST(testTimeoutAndSilence);
	CPPUNIT_TEST(testTimeoutAfterReceiveIsNotSilence);
	CPPUNIT_TEST(testLostStreamRetriesOnceThenFails);
	CPPUNIT_TEST(testLostWithoutRetryFails);
	CPPUNIT_TEST(testGracefulCloseRetriesWhileDeadlineAllows);
	CPPUNIT_TEST(testGracefulCloseDoesNotUseTheBrokenRetry);
	CPPUNIT_TEST(testSilentTimeoutIsReportedSilent);
	CPPUNIT_TEST(testStreamThatNeverSpokeIsNotReportedSilent);
	CPPUNIT_TEST(testSendWaitingStopsAtLimit);
	CPPUNIT_TEST(testNextDeadline);
	CPPUNIT_TEST_SUITE_END();

public:
	void testIdIsRemappedAndClientIdRestored()
	{
		Harness h;
		h.submit("a", 0x4242, T0);
		CPPUNIT_ASSERT_EQUAL(1u, h.session.load());
		auto sent = h.send(T0);
		CPPUNIT_ASSERT_EQUAL(size_t(1), sent.size());
		CPPUNIT_ASSERT_EQUAL(uint16_t(100), dns::readId(sent[0].data()));
		CPPUNIT_ASSERT(h.deliver(makeAnswer(100), T0 + 30ms));
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.results.size());
		CPPUNIT_ASSERT(h.results[0].second.status == UpstreamResult::Status::OK);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x4242), dns::readId(h.results[0].second.answer.data()));
		CPPUNIT_ASSERT_EQUAL(0u, h.session.load());
		CPPUNIT_ASSERT(h.session.idle());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.stats.answers.load());
	}

	void testIdCollisionPicksAnotherId()
	{
		Harness h;
		h.ids = {7, 7, 7, 9};
		h.submit("a", 1, T0);
		h.submit("b", 1, T0); // the same client ID from another client
		auto sent = h.send(T0);
		CPPUNIT_ASSERT_EQUAL(size_t(2), sent.size());
		CPPUNIT_ASSERT_EQUAL(uint16_t(7), dns::readId(sent[0].data()));
		CPPUNIT_ASSERT_EQUAL(uint16_t(9), dns::readId(sent[1].data()));
		CPPUNIT_ASSERT(h.deliver(makeAnswer(9), T0 + 1ms));
		CPPUNIT_ASSERT_EQUAL(std::string("b"), h.results.at(0).first);
	}

	void testAnswersInAnyOrder()
	{
		Harness h;
		h.sendTwoNames();
		CPPUNIT_ASSERT(h.deliver(makeAnswer(101, "b.example"), T0 + 1ms));
		CPPUNIT_ASSERT(h.deliver(makeAnswer(100, "a.example"), T0 + 2ms));
		CPPUNIT_ASSERT_EQUAL(std::string("b"), h.results.at(0).first);
		CPPUNIT_ASSERT_EQUAL(std::string("a"), h.results.at(1).first);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), dns::readId(h.results[1].second.answer.data()));
	}

	void testAnswerSplitAcrossReads()
	{
		Harness h;
		h.submit("a", 1, T0);
		h.send(T0);
		auto bytes = tcpFramed(makeAnswer(100));
		CPPUNIT_ASSERT(h.session.received(bytes.data(), 1, T0));
		CPPUNIT_ASSERT(h.session.received(bytes.data() + 1, 10, T0));
		CPPUNIT_ASSERT(h.results.empty());
		CPPUNIT_ASSERT(h.session.received(bytes.data() + 11, bytes.size() - 11, T0));
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.results.size());
	}

	void testMaxInflightHoldsTheRest()
	{
		Harness h(2);
		for (uint16_t i = 0; i < 3; ++i)
			h.submit(std::to_string(i), i, T0);
		CPPUNIT_ASSERT_EQUAL(size_t(2), h.send(T0).size());
		CPPUNIT_ASSERT(h.session.hasWaiting());
		CPPUNIT_ASSERT_EQUAL(size_t(0), h.send(T0).size());
		CPPUNIT_ASSERT(h.deliver(makeAnswer(100), T0 + 1ms));
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.send(T0 + 1ms).size());
		CPPUNIT_ASSERT(!h.session.hasWaiting());
	}

	void testUnknownIdIsIgnored()
	{
		Harness h;
		h.submit("a", 1, T0);
		h.send(T0);
		CPPUNIT_ASSERT(h.deliver(makeAnswer(555), T0 + 1ms));
		CPPUNIT_ASSERT(h.results.empty());
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.faults.size());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.stats.badAnswers.load());
		CPPUNIT_ASSERT(h.deliver(makeAnswer(100), T0 + 2ms));
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.results.size());
	}

	void testWrongQuestionDropsTheStream()
	{
		Harness h;
		h.submit("a", 1, T0);
		h.send(T0);
		CPPUNIT_ASSERT(!h.deliver(makeAnswer(100, "evil.example"), T0 + 1ms));
		CPPUNIT_ASSERT(h.results.empty()); // not answered with a wrong answer: retried by lost()
		h.session.lost(DotSession::Loss::BROKEN);
		CPPUNIT_ASSERT(h.session.hasWaiting());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.stats.retries.load());
	}

	void testShortMessageDropsTheStream()
	{
		Harness h;
		const std::vector<uint8_t> zeroLength{0, 0};
		CPPUNIT_ASSERT(!h.session.received(zeroLength.data(), zeroLength.size(), T0));
		h.session.lost(DotSession::Loss::BROKEN);
		const std::vector<uint8_t> tiny{0, 3, 1, 2, 3};
		CPPUNIT_ASSERT(!h.session.received(tiny.data(), tiny.size(), T0));
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), h.stats.badAnswers.load());
	}

	void testTimeoutAndSilence()
	{
		Harness h;
		h.submit("sent", 1, T0);
		h.send(T0);
		h.submit("waiting", 2, T0 + 500ms);
		CPPUNIT_ASSERT(!h.session.expire(T0 + 2s - 1ms));
		CPPUNIT_ASSERT(h.results.empty());
		CPPUNIT_ASSERT(h.session.expire(T0 + 2s)); // nothing received since it was sent: silent
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.results.size());
		CPPUNIT_ASSERT(h.results[0].second.status == UpstreamResult::Status::TIMEOUT);
		CPPUNIT_ASSERT(!h.session.expire(T0 + 2500ms)); // a waiting query times out too, not silent
		CPPUNIT_ASSERT(h.results.at(1).second.status == UpstreamResult::Status::TIMEOUT);
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), h.stats.timeouts.load());
		CPPUNIT_ASSERT_EQUAL(0u, h.session.load());
	}

	void testTimeoutAfterReceiveIsNotSilence()
	{
		Harness h;
		h.sendTwoNames();
		CPPUNIT_ASSERT(h.deliver(makeAnswer(101, "b.example"), T0 + 1s));
		CPPUNIT_ASSERT(!h.session.expire(T0 + 2s)); // the server is alive, one name is slow
		CPPUNIT_ASSERT(h.results.at(1).second.status == UpstreamResult::Status::TIMEOUT);
	}

	void testLostStreamRetriesOnceThenFails()
	{
		Harness h;
		h.submit("a", 1, T0);
		h.send(T0);
		h.session.lost(DotSession::Loss::BROKEN);
		CPPUNIT_ASSERT(h.results.empty());
		auto resent = h.send(T0 + 10ms);
		CPPUNIT_ASSERT_EQUAL(size_t(1), resent.size());
		h.session.lost(DotSession::Loss::BROKEN); // lost again: it was retried once already
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.results.size());
		CPPUNIT_ASSERT(h.results[0].second.status == UpstreamResult::Status::FAILED);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.stats.retries.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), h.stats.failures.load());
	}

	void testLostWithoutRetryFails()
	{
		Harness h;
		h.submit("a", 1, T0);
		h.send(T0);
		h.submit("b", 2, T0);
		h.session.lost(DotSession::Loss::ABANDONED);
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.results.size());
		CPPUNIT_ASSERT(h.session.hasWaiting());
		h.session.failWaiting(true);
		CPPUNIT_ASSERT_EQUAL(size_t(2), h.results.size());
		CPPUNIT_ASSERT(h.results[1].second.status == UpstreamResult::Status::FAILED);
		CPPUNIT_ASSERT_EQUAL(0u, h.session.load());
	}

	void testGracefulCloseRetriesWhileDeadlineAllows()
	{
		Harness h;
		h.submit("a", 1, T0, 2s);
		auto now = T0;
		for (int i = 0; i < 5; ++i) // the server closes again and again after answering others
		{
			CPPUNIT_ASSERT_EQUAL(size_t(1), h.send(now).size());
			h.session.lost(DotSession::Loss::GRACEFUL);
			CPPUNIT_ASSERT(h.results.empty());
			now += 300ms;
		}
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.send(now).size());
		CPPUNIT_ASSERT(h.deliver(makeAnswer(105), now));
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.results.size());
		CPPUNIT_ASSERT(h.results[0].second.status == UpstreamResult::Status::OK);
		CPPUNIT_ASSERT_EQUAL(uint64_t(5), h.stats.retries.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), h.stats.failures.load());
		// Past its deadline, a query waiting for the next stream times out.
		h.submit("b", 2, now, 500ms);
		h.send(now);
		h.session.lost(DotSession::Loss::GRACEFUL);
		CPPUNIT_ASSERT(!h.session.expire(now + 500ms));
		CPPUNIT_ASSERT(h.results.at(1).second.status == UpstreamResult::Status::TIMEOUT);
	}

	void testGracefulCloseDoesNotUseTheBrokenRetry()
	{
		Harness h;
		h.submit("a", 1, T0);
		h.send(T0);
		h.session.lost(DotSession::Loss::GRACEFUL);
		h.send(T0 + 10ms);
		h.session.lost(DotSession::Loss::BROKEN); // its one retry after a broken stream is still there
		CPPUNIT_ASSERT(h.results.empty());
		h.send(T0 + 20ms);
		h.session.lost(DotSession::Loss::BROKEN);
		CPPUNIT_ASSERT_EQUAL(size_t(1), h.results.size());
		CPPUNIT_ASSERT(h.results[0].second.status == UpstreamResult::Status::FAILED);
	}

	void testSilentTimeoutIsReportedSilent()
	{
		Harness h;
		h.submit("early", 1, T0, 2s, "a.example");
		h.send(T0);
		h.submit("late", 2, T0 + 1500ms, 2s, "b.example");
		h.send(T0 + 1500ms);
		CPPUNIT_ASSERT(h.deliver(makeAnswer(999, "c.example"), T0 + 1s)); // unknown ID: the stream is alive
		CPPUNIT_ASSERT(!h.session.expire(T0 + 2s));
		CPPUNIT_ASSERT(!h.results.at(0).second.silent); // something arrived after it was sent
		CPPUNIT_ASSERT(h.session.expire(T0 + 3500ms));
		CPPUNIT_ASSERT(h.results.at(1).second.silent); // nothing since it was sent
		CPPUNIT_ASSERT(h.results.at(1).second.status == UpstreamResult::Status::TIMEOUT);
	}

	void testStreamThatNeverSpokeIsNotReportedSilent()
	{
		Harness h;
		h.session.resetReceive(T0); // connected
		h.submit("a", 1, T0, 2s);
		h.send(T0 + 1ms);
		CPPUNIT_ASSERT(h.session.expire(T0 + 2s));      // dropped all the same
		CPPUNIT_ASSERT(!h.results.at(0).second.silent); // a server that never answers gets no second try
	}

	void testSendWaitingStopsAtLimit()
	{
		Harness h;
		for (uint16_t i = 0; i < 5; ++i)
			h.submit("q", i, T0);
		std::vector<uint8_t> output;
		CPPUNIT_ASSERT_EQUAL(size_t(3), h.session.sendWaiting(output, T0, 3));
		CPPUNIT_ASSERT_EQUAL(size_t(3), h.session.inflight());
		CPPUNIT_ASSERT(h.session.hasWaiting());
		CPPUNIT_ASSERT_EQUAL(size_t(0), h.session.sendWaiting(output, T0, 0));
	}

	void testNextDeadline()
	{
		Harness h;
		CPPUNIT_ASSERT(T0 + 1s == h.session.nextDeadline(T0 + 1s));
		h.submit("a", 1, T0, 300ms);
		h.send(T0);
		h.submit("b", 2, T0, 200ms);
		CPPUNIT_ASSERT(T0 + 200ms == h.session.nextDeadline(T0 + 1s));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(DotSessionTest, "upstream");
