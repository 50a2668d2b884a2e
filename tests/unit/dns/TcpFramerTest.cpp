// TcpFramerTest.cpp - tests of dns::TcpFramer: reassembly from pieces, pipelining, zero-length frames.
#include "dns/TcpFramer.h"
#include "support/DnsTestTraits.h"

#include <cppunit/extensions/HelperMacros.h>

using namespace dnsproxy::dns;

class TcpFramerTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TcpFramerTest);
	CPPUNIT_TEST(testReassemblesMessageSentOneByteAtATime);
	CPPUNIT_TEST(testSplitsPipelinedMessagesFromOneRead);
	CPPUNIT_TEST(testKeepsPartialPrefixBuffered);
	CPPUNIT_TEST(testReportsZeroLengthFrame);
	CPPUNIT_TEST(testAcceptsLargestFrame);
	CPPUNIT_TEST(testFrameRefusesOversizedMessage);
	CPPUNIT_TEST_SUITE_END();

public:
	void testReassemblesMessageSentOneByteAtATime()
	{
		const std::vector<uint8_t> stream = {0, 3, 'a', 'b', 'c'};
		TcpFramer framer;
		std::vector<uint8_t> out;
		for (size_t i = 0; i + 1 < stream.size(); ++i)
		{
			framer.append(&stream[i], 1);
			CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::NEED_MORE);
			CPPUNIT_ASSERT(framer.partial());
		}
		framer.append(&stream.back(), 1);
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::FRAME);
		CPPUNIT_ASSERT_EQUAL((std::vector<uint8_t>{'a', 'b', 'c'}), out);
		CPPUNIT_ASSERT(!framer.partial());
	}

	void testSplitsPipelinedMessagesFromOneRead()
	{
		const std::vector<uint8_t> stream = {0, 1, 'x', 0, 2, 'y', 'z', 0};
		TcpFramer framer;
		framer.append(stream.data(), stream.size());
		std::vector<uint8_t> out;
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::FRAME);
		CPPUNIT_ASSERT_EQUAL((std::vector<uint8_t>{'x'}), out);
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::FRAME);
		CPPUNIT_ASSERT_EQUAL((std::vector<uint8_t>{'y', 'z'}), out);
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::NEED_MORE);
		CPPUNIT_ASSERT_EQUAL(size_t(1), framer.buffered());
	}

	void testKeepsPartialPrefixBuffered()
	{
		TcpFramer framer;
		const uint8_t first = 0x01;
		framer.append(&first, 1);
		std::vector<uint8_t> out;
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::NEED_MORE);
		const uint8_t second = 0x00; // prefix 256: still waiting for the body
		framer.append(&second, 1);
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::NEED_MORE);
		CPPUNIT_ASSERT_EQUAL(size_t(2), framer.buffered());
	}

	void testReportsZeroLengthFrame()
	{
		const std::vector<uint8_t> stream = {0, 1, 'x', 0, 0, 0, 1, 'y'};
		TcpFramer framer;
		framer.append(stream.data(), stream.size());
		std::vector<uint8_t> out;
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::FRAME);
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::ZERO_LENGTH);
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::ZERO_LENGTH);
	}

	void testAcceptsLargestFrame()
	{
		std::vector<uint8_t> message(65535, 0x5a);
		const auto framed = TcpFramer::frame(message.data(), message.size());
		CPPUNIT_ASSERT_EQUAL(size_t(65537), framed.size());
		TcpFramer framer;
		framer.append(framed.data(), framed.size());
		std::vector<uint8_t> out;
		CPPUNIT_ASSERT(framer.next(out) == TcpFramer::Status::FRAME);
		CPPUNIT_ASSERT_EQUAL(message.size(), out.size());
	}

	void testFrameRefusesOversizedMessage()
	{
		std::vector<uint8_t> message(65536, 0);
		CPPUNIT_ASSERT(TcpFramer::frame(message.data(), message.size()).empty());
	}
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TcpFramerTest, "dns");
