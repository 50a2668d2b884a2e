// QueryPipelineTest.cpp - QueryPipeline's first steps: ACL before parsing, opcode, query counts, one parse per query.
#include "pipeline/QueryPipeline.h"

#include "dns/Constants.h"
#include "dns/Message.h"
#include "support/CapturingResponder.h"
#include "support/DnsTestTraits.h"
#include "support/FakeUpstream.h"
#include "support/PacketBuilder.h"
#include "support/TestAcl.h"

#include <cppunit/extensions/HelperMacros.h>

#include <memory>

using namespace dnsproxy;
using namespace dnsproxy::test;

namespace
{

/// The issue 15 message: `chain` pointers in the first answer's RDATA, each to the one before,
/// and `records` records owned by the chain's end (see MessageTest's chainAttack).
std::vector<uint8_t> chainAttack(size_t chain, size_t records)
{
	PacketBuilder b;
	b.header(0x1500, 0x0100, 1, static_cast<uint16_t>(1 + records), 0, 0).question("chain.example", dns::Type::A);
	b.pointer(12).rrFixed(10, dns::Class::IN, 0, static_cast<uint16_t>(2 * chain));
	uint16_t target = dns::HEADER_SIZE;
	for (size_t i = 0; i < chain; ++i)
	{
		const uint16_t here = static_cast<uint16_t>(b.size());
		b.pointer(target);
		target = here;
	}
	for (size_t i = 0; i < records; ++i)
		b.pointer(target).rrFixed(dns::Type::A, dns::Class::IN, 0, 0);
	return b.data();
}

std::vector<uint8_t> query(const std::string& name, uint16_t flags = 0x0100)
{
	PacketBuilder b;
	b.header(0x4242, flags, 1, 0, 0, 0).question(name, dns::Type::A);
	return b.data();
}

} // namespace

class QueryPipelineTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(QueryPipelineTest);
	CPPUNIT_TEST(testRefusesOutsideAclBeforeReadingRecords);
	CPPUNIT_TEST(testRefusedAnswerCarriesOptWhenQueryHadOne);
	CPPUNIT_TEST(testFormerrForChainAttackFromAllowedSource);
	CPPUNIT_TEST(testFormerrForQueryWithAuthorityOrExtraAdditional);
	CPPUNIT_TEST(testNotimpForOtherOpcodeEvenWithRecords);
	CPPUNIT_TEST(testForwardsPlainQueryOnce);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_acl = allowLoopback();
		_upstream = std::make_unique<FakeUpstream>();
		_pipeline = std::make_unique<pipeline::QueryPipeline>(pipeline::PipelineSettings(), _acl, *_upstream, _stats);
	}

	void tearDown() override
	{
		_pipeline.reset();
	}

	std::vector<uint8_t> ask(const std::vector<uint8_t>& q, const char* from = "127.0.0.1")
	{
		auto responder = std::make_shared<CapturingResponder>();
		frontend::ClientInfo client{Poco::Net::SocketAddress(from, 5353), frontend::Transport::UDP};
		_pipeline->handleQuery(std::vector<uint8_t>(q), client, responder);
		return responder->count() > 0 ? responder->answer() : std::vector<uint8_t>();
	}

	static dns::MessageInfo parsed(const std::vector<uint8_t>& answer)
	{
		dns::MessageInfo info;
		CPPUNIT_ASSERT_EQUAL(dns::ParseError::NONE, dns::parseMessage(answer.data(), answer.size(), info, true));
		return info;
	}

	void testRefusesOutsideAclBeforeReadingRecords()
	{
		const auto answer = ask(chainAttack(8000, 4000), "10.0.0.1");
		const auto info = parsed(answer);
		CPPUNIT_ASSERT_EQUAL(uint8_t(dns::Rcode::REFUSED), info.header.rcode());
		CPPUNIT_ASSERT_EQUAL(uint16_t(0x1500), info.header.id);
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), info.header.qdcount);
		CPPUNIT_ASSERT_EQUAL(uint16_t(0), info.header.ancount);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), _stats.refusedByAcl.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), _stats.malformed.load());
		CPPUNIT_ASSERT_EQUAL(size_t(0), _upstream->count());

		// The records are never read: a broken one after the question still gets REFUSED, not
		// FORMERR (which a parse before the ACL would give).
		PacketBuilder broken;
		broken.header(0x1501, 0x0100, 1, 1, 0, 0).question("broken.example", dns::Type::A).pointer(0x3FFF);
		CPPUNIT_ASSERT_EQUAL(uint8_t(dns::Rcode::REFUSED), parsed(ask(broken.data(), "10.0.0.1")).header.rcode());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), _stats.malformed.load());
	}

	void testRefusedAnswerCarriesOptWhenQueryHadOne()
	{
		PacketBuilder b;
		b.header(9, 0x0100, 1, 0, 0, 1).question("edns.example", dns::Type::A).opt(1232, true);
		const auto info = parsed(ask(b.data(), "10.0.0.1"));
		CPPUNIT_ASSERT_EQUAL(uint8_t(dns::Rcode::REFUSED), info.header.rcode());
		CPPUNIT_ASSERT(info.edns.present && info.edns.dnssecOk);
	}

	void testFormerrForChainAttackFromAllowedSource()
	{
		const auto info = parsed(ask(chainAttack(8000, 4000)));
		CPPUNIT_ASSERT_EQUAL(uint8_t(dns::Rcode::FORMERR), info.header.rcode());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), _stats.malformed.load());
		CPPUNIT_ASSERT_EQUAL(size_t(0), _upstream->count());
	}

	void testFormerrForQueryWithAuthorityOrExtraAdditional()
	{
		PacketBuilder authority;
		authority.header(1, 0x0100, 1, 0, 1, 0).question("ns.example", dns::Type::A);
		authority.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, 60, 4).bytes({192, 0, 2, 1});
		CPPUNIT_ASSERT_EQUAL(uint8_t(dns::Rcode::FORMERR), parsed(ask(authority.data())).header.rcode());

		PacketBuilder twoAdditional;
		twoAdditional.header(2, 0x0100, 1, 0, 0, 2).question("ar.example", dns::Type::A).opt(1232, false);
		twoAdditional.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, 60, 4).bytes({192, 0, 2, 1});
		CPPUNIT_ASSERT_EQUAL(uint8_t(dns::Rcode::FORMERR), parsed(ask(twoAdditional.data())).header.rcode());
		CPPUNIT_ASSERT_EQUAL(size_t(0), _upstream->count());
	}

	void testNotimpForOtherOpcodeEvenWithRecords()
	{
		// RFC 1996 NOTIFY (opcode 4) carries an SOA in the answer section.
		PacketBuilder notify;
		notify.header(3, 4 << 11, 1, 1, 0, 0).question("zone.example", dns::Type::SOA);
		notify.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, 60, 4).bytes({192, 0, 2, 1});
		const auto info = parsed(ask(notify.data()));
		CPPUNIT_ASSERT_EQUAL(uint8_t(dns::Rcode::NOTIMP), info.header.rcode());
		CPPUNIT_ASSERT_EQUAL(uint16_t(1), info.header.qdcount);
		CPPUNIT_ASSERT_EQUAL(size_t(0), _upstream->count());
	}

	void testForwardsPlainQueryOnce()
	{
		ask(query("www.example.com"));
		CPPUNIT_ASSERT_EQUAL(size_t(1), _upstream->count());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), _stats.malformed.load());
	}

private:
	frontend::ClientAcl _acl;
	stats::FrontendStats _stats;
	std::unique_ptr<FakeUpstream> _upstream;
	std::unique_ptr<pipeline::QueryPipeline> _pipeline;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(QueryPipelineTest, "pipeline");
CPPUNIT_REGISTRY_ADD("pipeline", "unit");
