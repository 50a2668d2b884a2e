// MessageFields.h - header fields of a raw DNS message, for assertions in tests.
#pragma once

#include "dns/Header.h"

#include <cppunit/TestAssert.h>

#include <cstdint>
#include <vector>

namespace dnsproxy::test
{

/// The header of `message`, read with dns::Header::parse; a message too short for one fails the
/// test. Shared by the pipeline tests (unit and integration) so each does not re-read the bytes.
inline dns::Header headerOf(const std::vector<uint8_t>& message)
{
	auto header = dns::Header::parse(message.data(), message.size());
	CPPUNIT_ASSERT_MESSAGE("message shorter than a DNS header", header.has_value());
	return *header;
}

inline int idOf(const std::vector<uint8_t>& message)
{
	return headerOf(message).id;
}

inline int rcodeOf(const std::vector<uint8_t>& message)
{
	return headerOf(message).rcode();
}

inline bool isResponse(const std::vector<uint8_t>& message)
{
	return headerOf(message).qr();
}

} // namespace dnsproxy::test
