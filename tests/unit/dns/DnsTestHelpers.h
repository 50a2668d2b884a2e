// DnsTestHelpers.h - helpers shared by the dns tests that check what our own code produced.
#pragma once

#include "dns/Message.h"
#include "support/DnsTestTraits.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <vector>

namespace dnsproxy::test
{

/// The summary of `msg` (a question count of 0 is allowed); fails the test unless it parses.
inline dns::MessageInfo parsed(const std::vector<uint8_t>& msg)
{
	dns::MessageInfo info;
	const dns::ParseError error = dns::parseMessage(msg.data(), msg.size(), info, true);
	CPPUNIT_ASSERT_EQUAL(dns::ParseError::NONE, error);
	return info;
}

} // namespace dnsproxy::test
