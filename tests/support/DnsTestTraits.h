// DnsTestTraits.h - CppUnit printers for dns types, so CPPUNIT_ASSERT_EQUAL shows both values readably.
#pragma once

#include "dns/Constants.h"

#include <cppunit/TestAssert.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CppUnit
{

template <> struct assertion_traits<dnsproxy::dns::ParseError>
{
	static bool equal(dnsproxy::dns::ParseError a, dnsproxy::dns::ParseError b)
	{
		return a == b;
	}
	static std::string toString(dnsproxy::dns::ParseError e)
	{
		return dnsproxy::dns::toString(e);
	}
};

template <> struct assertion_traits<std::vector<uint8_t>>
{
	static bool equal(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b)
	{
		return a == b;
	}
	static std::string toString(const std::vector<uint8_t>& v)
	{
		static const char digits[] = "0123456789abcdef";
		std::string text;
		for (const uint8_t b : v)
		{
			text += digits[b >> 4];
			text += digits[b & 0x0F];
		}
		return text;
	}
};

template <> struct assertion_traits<std::optional<uint32_t>>
{
	static bool equal(const std::optional<uint32_t>& a, const std::optional<uint32_t>& b)
	{
		return a == b;
	}
	static std::string toString(const std::optional<uint32_t>& v)
	{
		return v ? std::to_string(*v) : "nullopt";
	}
};

template <> struct assertion_traits<std::optional<uint16_t>>
{
	static bool equal(const std::optional<uint16_t>& a, const std::optional<uint16_t>& b)
	{
		return a == b;
	}
	static std::string toString(const std::optional<uint16_t>& v)
	{
		return v ? std::to_string(*v) : "nullopt";
	}
};

} // namespace CppUnit
