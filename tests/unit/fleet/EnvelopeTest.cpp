// EnvelopeTest.cpp - HMAC-SHA256 sealing of fleet values and pin events: sign, verify, expiry.
#include "fleet/Envelope.h"

#include <cppunit/extensions/HelperMacros.h>

using dnsproxy::fleet::Envelope;

namespace
{
const int64_t NOW = 1796000000000; // ms since the epoch; the clock is a parameter
const std::string KEY = "dnsproxy:cache:0001";
} // namespace

class EnvelopeTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(EnvelopeTest);
	CPPUNIT_TEST(testOpensWhatItSealed);
	CPPUNIT_TEST(testRejectsChangedContent);
	CPPUNIT_TEST(testRejectsValueMovedToAnotherKey);
	CPPUNIT_TEST(testRejectsAnotherSecret);
	CPPUNIT_TEST(testRejectsChangedTimestampOrTtl);
	CPPUNIT_TEST(testRejectsUnsignedValue);
	CPPUNIT_TEST(testExpiresAfterItsTtl);
	CPPUNIT_TEST(testRejectsTimestampFarInFuture);
	CPPUNIT_TEST(testTtlZeroNeverExpires);
	CPPUNIT_TEST(testTextTagRoundTrip);
	CPPUNIT_TEST(testTextTagRejectsChangedWord);
	CPPUNIT_TEST(testTextTagRejectsMissingTag);
	CPPUNIT_TEST_SUITE_END();

public:
	void testOpensWhatItSealed()
	{
		Envelope envelope("s3cret");
		const std::string content("\x00\x01wire answer\xff", 15);
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::OK == envelope.open(KEY, envelope.seal(KEY, content, NOW, 300), NOW, opened));
		CPPUNIT_ASSERT_EQUAL(content, opened.content);
		CPPUNIT_ASSERT_EQUAL(NOW, opened.signedMs);
		CPPUNIT_ASSERT_EQUAL(uint32_t(300), opened.ttlS);
		CPPUNIT_ASSERT_EQUAL(Envelope::MAC_SIZE, opened.mac.size());
	}

	void testRejectsChangedContent()
	{
		Envelope envelope("s3cret");
		std::string sealed = envelope.seal(KEY, "answer 192.0.2.1", NOW, 300);
		sealed[sealed.size() - 1] = '9';
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::BAD_MAC == envelope.open(KEY, sealed, NOW, opened));
	}

	void testRejectsValueMovedToAnotherKey()
	{
		Envelope envelope("s3cret");
		const std::string sealed = envelope.seal(KEY, "answer", NOW, 300);
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::BAD_MAC == envelope.open(KEY + "2", sealed, NOW, opened));
	}

	void testRejectsAnotherSecret()
	{
		const std::string sealed = Envelope("one").seal(KEY, "answer", NOW, 300);
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::BAD_MAC == Envelope("two").open(KEY, sealed, NOW, opened));
	}

	void testRejectsChangedTimestampOrTtl()
	{
		Envelope envelope("s3cret");
		const std::string sealed = envelope.seal(KEY, "answer", NOW, 300);
		Envelope::Opened opened;
		std::string later = sealed;
		later[11] = static_cast<char>(later[11] + 1); // signing time, last byte
		CPPUNIT_ASSERT(Envelope::Verdict::BAD_MAC == envelope.open(KEY, later, NOW, opened));
		std::string longer = sealed;
		longer[14] = 0x7f; // TTL, second byte
		CPPUNIT_ASSERT(Envelope::Verdict::BAD_MAC == envelope.open(KEY, longer, NOW, opened));
	}

	void testRejectsUnsignedValue()
	{
		Envelope envelope("s3cret");
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::MALFORMED == envelope.open(KEY, "plain wire answer", NOW, opened));
		CPPUNIT_ASSERT(Envelope::Verdict::MALFORMED == envelope.open(KEY, "", NOW, opened));
		const std::string truncated = envelope.seal(KEY, "", NOW, 300).substr(0, 40);
		CPPUNIT_ASSERT(Envelope::Verdict::MALFORMED == envelope.open(KEY, truncated, NOW, opened));
	}

	void testExpiresAfterItsTtl()
	{
		Envelope envelope("s3cret");
		const std::string sealed = envelope.seal(KEY, "answer", NOW, 300);
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::OK == envelope.open(KEY, sealed, NOW + 299999, opened));
		CPPUNIT_ASSERT(Envelope::Verdict::EXPIRED == envelope.open(KEY, sealed, NOW + 300000, opened));
	}

	void testRejectsTimestampFarInFuture()
	{
		Envelope envelope("s3cret");
		Envelope::Opened opened;
		const std::string soon = envelope.seal(KEY, "answer", NOW + Envelope::MAX_SKEW_MS, 300);
		CPPUNIT_ASSERT(Envelope::Verdict::OK == envelope.open(KEY, soon, NOW, opened));
		const std::string future = envelope.seal(KEY, "answer", NOW + Envelope::MAX_SKEW_MS + 1, 300);
		CPPUNIT_ASSERT(Envelope::Verdict::EXPIRED == envelope.open(KEY, future, NOW, opened));
	}

	void testTtlZeroNeverExpires()
	{
		Envelope envelope("s3cret");
		const std::string sealed = envelope.seal(KEY, "stored pin", NOW, 0);
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::OK == envelope.open(KEY, sealed, NOW + 365LL * 86400 * 1000, opened));
	}

	void testTextTagRoundTrip()
	{
		Envelope envelope("s3cret");
		const std::string content = "a1b2 approved dot.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
		const std::string text = content + " " + envelope.tag("dnsproxy:pins", content, NOW, 60);
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::OK == envelope.openText("dnsproxy:pins", text, NOW + 1000, opened));
		CPPUNIT_ASSERT_EQUAL(content, opened.content);
		CPPUNIT_ASSERT_EQUAL(uint32_t(60), opened.ttlS);
		CPPUNIT_ASSERT(Envelope::Verdict::EXPIRED == envelope.openText("dnsproxy:pins", text, NOW + 60000, opened));
	}

	void testTextTagRejectsChangedWord()
	{
		Envelope envelope("s3cret");
		const std::string content = "a1b2 approved dot.example AAAA=";
		const std::string tag = envelope.tag("dnsproxy:pins", content, NOW, 60);
		Envelope::Opened opened;
		CPPUNIT_ASSERT(Envelope::Verdict::BAD_MAC ==
					   envelope.openText("dnsproxy:pins", "a1b2 approved dot.example BBBB= " + tag, NOW, opened));
		CPPUNIT_ASSERT(Envelope::Verdict::BAD_MAC == envelope.openText("other:pins", content + " " + tag, NOW, opened));
	}

	void testTextTagRejectsMissingTag()
	{
		Envelope envelope("s3cret");
		Envelope::Opened opened;
		for (const char* text : {"a1b2 forgotten dot.example", "", "x 1 2 !!!!", "a 12 60 c2hvcnQ="})
			CPPUNIT_ASSERT_MESSAGE(text, Envelope::Verdict::MALFORMED ==
											 envelope.openText("dnsproxy:pins", text, NOW, opened));
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(EnvelopeTest, "fleet");
