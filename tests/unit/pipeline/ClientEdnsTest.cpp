// ClientEdnsTest.cpp - the client's own connection options: keepalive (RFC 7828) and padding (RFC 8467) per transport.
#include "pipeline/QueryPipeline.h"

#include "dns/Constants.h"
#include "dns/Message.h"
#include "support/CapturingResponder.h"
#include "support/FakeUpstream.h"
#include "support/PacketBuilder.h"
#include "support/TestAcl.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using namespace dnsproxy;
using namespace dnsproxy::test;

namespace
{

const std::vector<uint8_t> PADDING_OPTION{0, 12, 0, 4, 0, 0, 0, 0};
const std::vector<uint8_t> KEEPALIVE_OPTION{0, 11, 0, 0}; // a client's: no timeout

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b)
{
	a.insert(a.end(), b.begin(), b.end());
	return a;
}

/// What an upstream on a padded, kept-alive connection answers: its own padding and a 2-minute
/// keepalive, which describe the proxy's upstream connection and must never reach a client.
std::vector<uint8_t> upstreamAnswer(const std::vector<uint8_t>& query)
{
	dns::MessageInfo q;
	dns::parseMessage(query.data(), query.size(), q, true);
	PacketBuilder b;
	b.header(q.header.id, 0x8180, 1, 1, 0, 1).question("pad.example", dns::Type::A);
	b.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, 300, 4).bytes({192, 0, 2, 7});
	b.opt(1232, false, concat({0, 11, 0, 2, 0x04, 0xb0}, {0, 12, 0, 3, 0, 0, 0}));
	return b.data();
}

} // namespace

class ClientEdnsTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ClientEdnsTest);
	CPPUNIT_TEST(testPaddedQueryOverDotGetsPaddedAnswer);
	CPPUNIT_TEST(testPaddedQueryOverDohGetsPaddedAnswer);
	CPPUNIT_TEST(testNoPaddingInClearOrWhenNotAsked);
	CPPUNIT_TEST(testKeepaliveAnsweredWithOwnTimeoutOnStreams);
	CPPUNIT_TEST(testNoKeepaliveOnUdpOrDoh);
	CPPUNIT_TEST(testPaddedCacheHitIsPaddedToo);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_acl = allowLoopback();
		_upstream = std::make_unique<FakeUpstream>(upstreamAnswer);
		pipeline::PipelineSettings settings;
		settings.clientIdleTimeoutMs = 7000;
		_cache = std::make_unique<cache::PacketCache>(cache::CacheSettings());
		_pipeline = std::make_unique<pipeline::QueryPipeline>(settings, _acl, *_upstream, _stats, _cache.get());
	}

	void tearDown() override
	{
		_pipeline.reset();
	}

	dns::MessageInfo ask(frontend::Transport transport, const std::vector<uint8_t>& options, size_t* length = nullptr)
	{
		PacketBuilder b;
		b.header(0x3333, 0x0100, 1, 0, 0, 1).question("pad.example", dns::Type::A).opt(1232, false, options);
		auto responder = std::make_shared<CapturingResponder>();
		frontend::ClientInfo client{Poco::Net::SocketAddress("127.0.0.1", 5353), transport};
		_pipeline->handleQuery(std::vector<uint8_t>(b.data()), client, responder);
		CPPUNIT_ASSERT(responder->count() > 0);
		const auto answer = responder->answer();
		if (length)
			*length = answer.size();
		dns::MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(dns::ParseError::NONE, dns::parseMessage(answer.data(), answer.size(), info, true));
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x3333), info.header.id);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), info.header.ancount);
		return info;
	}

	void testPaddedQueryOverDotGetsPaddedAnswer()
	{
		size_t length = 0;
		const auto info = ask(frontend::Transport::DOT, PADDING_OPTION, &length);
		CPPUNIT_ASSERT(info.edns.hasPadding);
		CPPUNIT_ASSERT_EQUAL(size_t(0), length % pipeline::PipelineSettings::RESPONSE_PAD_BLOCK);
		CPPUNIT_ASSERT(!info.edns.hasKeepalive); // the upstream's keepalive is not the client's
	}

	void testPaddedQueryOverDohGetsPaddedAnswer()
	{
		size_t length = 0;
		const auto info = ask(frontend::Transport::DOH, PADDING_OPTION, &length);
		CPPUNIT_ASSERT(info.edns.hasPadding);
		CPPUNIT_ASSERT_EQUAL(size_t(0), length % pipeline::PipelineSettings::RESPONSE_PAD_BLOCK);
	}

	void testNoPaddingInClearOrWhenNotAsked()
	{
		// Control for the two above: the same answer, not padded where padding is not asked for or
		// would travel in clear (RFC 7830: padding is for encrypted transports).
		size_t length = 0;
		CPPUNIT_ASSERT(!ask(frontend::Transport::DOT, {}, &length).edns.hasPadding);
		CPPUNIT_ASSERT(length % pipeline::PipelineSettings::RESPONSE_PAD_BLOCK != 0);
		CPPUNIT_ASSERT(!ask(frontend::Transport::TCP, PADDING_OPTION).edns.hasPadding);
		CPPUNIT_ASSERT(!ask(frontend::Transport::UDP, PADDING_OPTION).edns.hasPadding);
	}

	void testKeepaliveAnsweredWithOwnTimeoutOnStreams()
	{
		for (const auto transport : {frontend::Transport::TCP, frontend::Transport::DOT})
		{
			const auto info = ask(transport, KEEPALIVE_OPTION);
			CPPUNIT_ASSERT(info.edns.hasKeepalive);
			CPPUNIT_ASSERT(info.edns.keepaliveTimeout.has_value());
			CPPUNIT_ASSERT_EQUAL(uint16_t(70), *info.edns.keepaliveTimeout); // 7000 ms in 100 ms units
		}
		// Not asked: not sent (and never the upstream's 120 s).
		CPPUNIT_ASSERT(!ask(frontend::Transport::TCP, {}).edns.hasKeepalive);
	}

	void testNoKeepaliveOnUdpOrDoh()
	{
		CPPUNIT_ASSERT(!ask(frontend::Transport::UDP, KEEPALIVE_OPTION).edns.hasKeepalive);
		CPPUNIT_ASSERT(!ask(frontend::Transport::DOH, KEEPALIVE_OPTION).edns.hasKeepalive);
	}

	void testPaddedCacheHitIsPaddedToo()
	{
		ask(frontend::Transport::UDP, {}); // fills the cache
		CPPUNIT_ASSERT_EQUAL(size_t(1), _upstream->count());
		size_t length = 0;
		const auto info = ask(frontend::Transport::DOT, concat(PADDING_OPTION, KEEPALIVE_OPTION), &length);
		CPPUNIT_ASSERT_EQUAL(size_t(1), _upstream->count()); // a hit
		CPPUNIT_ASSERT(info.edns.hasPadding && info.edns.hasKeepalive);
		CPPUNIT_ASSERT_EQUAL(size_t(0), length % pipeline::PipelineSettings::RESPONSE_PAD_BLOCK);
	}

private:
	frontend::ClientAcl _acl;
	stats::FrontendStats _stats;
	std::unique_ptr<FakeUpstream> _upstream;
	std::unique_ptr<cache::PacketCache> _cache;
	std::unique_ptr<pipeline::QueryPipeline> _pipeline;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(ClientEdnsTest, "pipeline");
