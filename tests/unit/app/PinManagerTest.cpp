// PinManagerTest.cpp - pin policy decisions: configured pins, learn, enforce, approval, forget.
#include "app/PinManager.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy::app;
using dnsproxy::upstream::PeerChain;

namespace
{

const std::string LEAF_A = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const std::string LEAF_B = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";
const std::string CA_KEY = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=";
const std::string OTHER_CA = "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE=";
const int64_t NOW = 1800000000;

PeerChain chain(const std::string& leaf, int64_t leafNotAfter = NOW + 365 * 86400)
{
	PeerChain c;
	c.spkiSha256 = {leaf, CA_KEY};
	c.notAfter = {leafNotAfter, NOW + 3650 * 86400};
	c.chainVerified = true;
	c.nameMatched = true;
	return c;
}

TlsConfig config(PinPolicy policy, std::vector<std::pair<std::string, std::string>> pins = {})
{
	TlsConfig c;
	c.pinPolicy = policy;
	for (auto& [name, digest] : pins)
		c.pins.push_back({name, digest, {}});
	return c;
}

} // namespace

class PinManagerTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PinManagerTest);
	CPPUNIT_TEST(testConfiguredPinMustMatchSomeCertificate);
	CPPUNIT_TEST(testConfiguredCaPinAcceptsAnyLeafFromThatCa);
	CPPUNIT_TEST(testConfiguredPinRefusalNamesExpectedAndSeenDigests);
	CPPUNIT_TEST(testLearnAcceptsKeyChangeAndCountsIt);
	CPPUNIT_TEST(testEnforceTrustsFirstUseThenRefusesNewKey);
	CPPUNIT_TEST(testEnforceAcceptsNewKeyAfterApproval);
	CPPUNIT_TEST(testApprovalIsToldToTheListener);
	CPPUNIT_TEST(testOffRecordsNothing);
	CPPUNIT_TEST(testNamesAreCaseInsensitive);
	CPPUNIT_TEST(testForgetRestartsTrustOnFirstUse);
	CPPUNIT_TEST(testExpiringPinnedKeyReportedOncePerDay);
	CPPUNIT_TEST(testRemembersServersThatSpokeTls);
	CPPUNIT_TEST(testSentCertificatesNeverSatisfyAConfiguredPin);
	CPPUNIT_TEST(testRefusalListsSentCertificatesAsNotCounted);
	CPPUNIT_TEST(testIssuerKeyCountsOnlyWhenLeafMatchesName);
	CPPUNIT_TEST(testEnforceRefusesLearnedKeyThatWasOnlySent);
	CPPUNIT_TEST(testUnauthenticatedChainIsNotLearned);
	CPPUNIT_TEST_SUITE_END();

public:
	void testConfiguredPinMustMatchSomeCertificate()
	{
		PinManager pins(config(PinPolicy::OFF, {{"dot.example", LEAF_A}}), nullptr, [] { return NOW; });
		std::string reason;
		CPPUNIT_ASSERT(pins.accept("dot.example", chain(LEAF_A), reason));
		CPPUNIT_ASSERT(!pins.accept("dot.example", chain(LEAF_B), reason));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), pins.refusals());
		CPPUNIT_ASSERT(pins.accept("other.example", chain(LEAF_B), reason));
	}

	void testConfiguredCaPinAcceptsAnyLeafFromThatCa()
	{
		PinManager pins(config(PinPolicy::ENFORCE, {{"dot.example", CA_KEY}}), nullptr, [] { return NOW; });
		std::string reason;
		CPPUNIT_ASSERT(pins.accept("dot.example", chain(LEAF_A), reason));
		pins.verified("dot.example", chain(LEAF_A));
		CPPUNIT_ASSERT(pins.accept("dot.example", chain(LEAF_B), reason));
	}

	void testConfiguredPinRefusalNamesExpectedAndSeenDigests()
	{
		PinManager pins(config(PinPolicy::LEARN, {{"dot.example", LEAF_A}}), nullptr, [] { return NOW; });
		std::string reason;
		CPPUNIT_ASSERT(!pins.accept("dot.example", chain(LEAF_B), reason));
		CPPUNIT_ASSERT(reason.find(LEAF_A) != std::string::npos);
		CPPUNIT_ASSERT(reason.find(LEAF_B) != std::string::npos);
	}

	void testLearnAcceptsKeyChangeAndCountsIt()
	{
		PinManager pins(config(PinPolicy::LEARN), nullptr, [] { return NOW; });
		std::string reason;
		pins.verified("dot.example", chain(LEAF_A));
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), pins.changesSeen());
		CPPUNIT_ASSERT(pins.accept("dot.example", chain(LEAF_B), reason));
		pins.verified("dot.example", chain(LEAF_B));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), pins.changesSeen());
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), pins.learned());
	}

	void testEnforceTrustsFirstUseThenRefusesNewKey()
	{
		PinManager pins(config(PinPolicy::ENFORCE), nullptr, [] { return NOW; });
		std::string reason;
		CPPUNIT_ASSERT(pins.accept("dot.example", chain(LEAF_A), reason));
		pins.verified("dot.example", chain(LEAF_A));
		CPPUNIT_ASSERT(pins.accept("dot.example", chain(LEAF_A), reason));
		PeerChain other = chain(LEAF_B);
		other.spkiSha256 = {LEAF_B, "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD="};
		CPPUNIT_ASSERT(!pins.accept("dot.example", other, reason));
		CPPUNIT_ASSERT(reason.find("POST /pins") != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), pins.refusals());
	}

	void testEnforceAcceptsNewKeyAfterApproval()
	{
		PinManager pins(config(PinPolicy::ENFORCE), nullptr, [] { return NOW; });
		std::string reason;
		PeerChain first = chain(LEAF_A);
		first.spkiSha256 = {LEAF_A};
		PeerChain second = chain(LEAF_B);
		second.spkiSha256 = {LEAF_B};
		pins.verified("dot.example", first);
		CPPUNIT_ASSERT(!pins.accept("dot.example", second, reason));
		pins.approve("dot.example", LEAF_B, NOW);
		CPPUNIT_ASSERT(pins.accept("dot.example", second, reason));
	}

	void testApprovalIsToldToTheListener()
	{
		PinManager pins(config(PinPolicy::ENFORCE), nullptr, [] { return NOW; });
		std::vector<std::string> told;
		pins.setApprovalListener([&told](const std::string& name) { told.push_back(name); });
		pins.approve("Dot.Example", LEAF_B, NOW);
		CPPUNIT_ASSERT(std::vector<std::string>{"dot.example"} == told);
		// An approval by the fleet is told too, once: a repeated one changes nothing.
		dnsproxy::fleet::PinEvent event{dnsproxy::fleet::PinEvent::Kind::APPROVED, "other.example", LEAF_A, {}};
		pins.applyRemote(event);
		pins.applyRemote(event);
		CPPUNIT_ASSERT((std::vector<std::string>{"dot.example", "other.example"}) == told);
		pins.forget("dot.example");
		CPPUNIT_ASSERT_EQUAL(size_t(2), told.size());
	}

	void testOffRecordsNothing()
	{
		PinManager pins(config(PinPolicy::OFF), nullptr, [] { return NOW; });
		std::string reason;
		pins.verified("dot.example", chain(LEAF_A));
		pins.verified("dot.example", chain(LEAF_B));
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), pins.learned());
		CPPUNIT_ASSERT(pins.accept("dot.example", chain(LEAF_B), reason));
	}

	void testNamesAreCaseInsensitive()
	{
		PinManager pins(config(PinPolicy::OFF, {{"DoT.Example", LEAF_A}}), nullptr, [] { return NOW; });
		std::string reason;
		CPPUNIT_ASSERT(!pins.accept("dot.EXAMPLE", chain(LEAF_B), reason));
	}

	void testForgetRestartsTrustOnFirstUse()
	{
		PinManager pins(config(PinPolicy::ENFORCE), nullptr, [] { return NOW; });
		std::string reason;
		PeerChain second = chain(LEAF_B);
		second.spkiSha256 = {LEAF_B};
		pins.verified("dot.example", chain(LEAF_A));
		CPPUNIT_ASSERT(!pins.accept("dot.example", second, reason));
		pins.forget("dot.example");
		CPPUNIT_ASSERT(pins.accept("dot.example", second, reason));
	}

	void testExpiringPinnedKeyReportedOncePerDay()
	{
		int64_t now = NOW;
		PinManager pins(config(PinPolicy::LEARN), nullptr, [&now] { return now; });
		pins.verified("dot.example", chain(LEAF_A, NOW + 3 * 86400));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), pins.expiringSoon());
		pins.verified("dot.example", chain(LEAF_A, NOW + 3 * 86400));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), pins.expiringSoon());
		now += 86400 + 1;
		pins.verified("dot.example", chain(LEAF_A, NOW + 3 * 86400));
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), pins.expiringSoon());
	}

	void testRemembersServersThatSpokeTls()
	{
		PinManager pins(config(PinPolicy::LEARN), nullptr, [] { return NOW; });
		CPPUNIT_ASSERT(!pins.hasSpokenTls("dot.example"));
		pins.spokeTls("DOT.example");
		CPPUNIT_ASSERT(pins.hasSpokenTls("dot.example"));
	}

	void testSentCertificatesNeverSatisfyAConfiguredPin()
	{
		// The attacker's leaf from another CA, with the real CA and the real leaf appended.
		PeerChain attack = chain(LEAF_B);
		attack.spkiSha256 = {LEAF_B, OTHER_CA};
		attack.sentOnly = {CA_KEY, LEAF_A};
		PinManager caPin(config(PinPolicy::LEARN, {{"dot.example", CA_KEY}}), nullptr, [] { return NOW; });
		PinManager leafPin(config(PinPolicy::LEARN, {{"dot.example", LEAF_A}}), nullptr, [] { return NOW; });
		std::string reason;
		CPPUNIT_ASSERT(!caPin.accept("dot.example", attack, reason));
		CPPUNIT_ASSERT(!leafPin.accept("dot.example", attack, reason));
		CPPUNIT_ASSERT(caPin.accept("dot.example", chain(LEAF_A), reason));
		CPPUNIT_ASSERT(leafPin.accept("dot.example", chain(LEAF_A), reason));
	}

	void testRefusalListsSentCertificatesAsNotCounted()
	{
		PeerChain attack = chain(LEAF_B);
		attack.spkiSha256 = {LEAF_B};
		attack.sentOnly = {CA_KEY};
		PinManager pins(config(PinPolicy::LEARN, {{"dot.example", CA_KEY}}), nullptr, [] { return NOW; });
		std::string reason;
		CPPUNIT_ASSERT(!pins.accept("dot.example", attack, reason));
		CPPUNIT_ASSERT(reason.find("verified chain holds [" + LEAF_B + "]") != std::string::npos);
		CPPUNIT_ASSERT(reason.find("not counted: [" + CA_KEY + "]") != std::string::npos);
	}

	void testIssuerKeyCountsOnlyWhenLeafMatchesName()
	{
		// Opportunistic profile: a correctly signed chain from the pinned CA, but for another name.
		PeerChain otherName = chain(LEAF_B);
		otherName.nameMatched = false;
		otherName.chainVerified = false;
		PinManager caPin(config(PinPolicy::LEARN, {{"dot.example", CA_KEY}}), nullptr, [] { return NOW; });
		PinManager leafPin(config(PinPolicy::LEARN, {{"dot.example", LEAF_B}}), nullptr, [] { return NOW; });
		std::string reason;
		CPPUNIT_ASSERT(!caPin.accept("dot.example", otherName, reason));
		CPPUNIT_ASSERT(leafPin.accept("dot.example", otherName, reason));
	}

	void testEnforceRefusesLearnedKeyThatWasOnlySent()
	{
		PinManager pins(config(PinPolicy::ENFORCE), nullptr, [] { return NOW; });
		std::string reason;
		pins.verified("dot.example", chain(LEAF_A));
		PeerChain attack = chain(LEAF_B);
		attack.spkiSha256 = {LEAF_B, OTHER_CA};
		attack.sentOnly = {LEAF_A};
		CPPUNIT_ASSERT(!pins.accept("dot.example", attack, reason));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), pins.refusals());
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), pins.learned());
	}

	void testUnauthenticatedChainIsNotLearned()
	{
		PinManager pins(config(PinPolicy::ENFORCE), nullptr, [] { return NOW; });
		std::string reason;
		PeerChain unverified = chain(LEAF_B);
		unverified.chainVerified = false;
		pins.verified("dot.example", unverified);
		PeerChain otherName = chain(LEAF_B);
		otherName.nameMatched = false;
		pins.verified("dot.example", otherName);
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), pins.learned());
		// Still trust on first use: the first authenticated chain is what enforce learns.
		CPPUNIT_ASSERT(pins.accept("dot.example", chain(LEAF_A), reason));
		pins.verified("dot.example", chain(LEAF_A));
		CPPUNIT_ASSERT(!pins.accept("dot.example", unverified, reason));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(PinManagerTest, "app");
