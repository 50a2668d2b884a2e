// DnsNames.cpp - presentation names of rcodes, types and classes.
#include "admin/DnsNames.h"

#include <Poco/String.h>

#include <array>
#include <cstdlib>
#include <utility>

namespace dnsproxy::admin
{

namespace
{

const std::array<std::pair<uint16_t, const char*>, 28> TYPES{{
	{1, "A"},      {2, "NS"},    {5, "CNAME"},  {6, "SOA"},    {12, "PTR"},   {13, "HINFO"}, {15, "MX"},
	{16, "TXT"},   {17, "RP"},   {18, "AFSDB"}, {28, "AAAA"},  {29, "LOC"},   {33, "SRV"},   {35, "NAPTR"},
	{39, "DNAME"}, {41, "OPT"},  {43, "DS"},    {44, "SSHFP"}, {46, "RRSIG"}, {47, "NSEC"},  {48, "DNSKEY"},
	{50, "NSEC3"}, {52, "TLSA"}, {64, "SVCB"},  {65, "HTTPS"}, {99, "SPF"},   {255, "ANY"},  {257, "CAA"},
}};

const std::array<const char*, 11> RCODES{"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
										 "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};

std::optional<uint16_t> parseNumber(const std::string& digits)
{
	if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
		return std::nullopt;
	const unsigned long value = std::strtoul(digits.c_str(), nullptr, 10);
	if (value > 65535)
		return std::nullopt;
	return static_cast<uint16_t>(value);
}

} // namespace

std::string DnsNames::rcodeName(unsigned rcode)
{
	if (rcode < RCODES.size())
		return RCODES[rcode];
	return "RCODE" + std::to_string(rcode);
}

std::string DnsNames::typeName(uint16_t type)
{
	for (const auto& [code, name] : TYPES)
	{
		if (code == type)
			return name;
	}
	return "TYPE" + std::to_string(type);
}

std::string DnsNames::className(uint16_t klass)
{
	switch (klass)
	{
	case 1:
		return "IN";
	case 3:
		return "CH";
	case 4:
		return "HS";
	case 254:
		return "NONE";
	case 255:
		return "ANY";
	default:
		return "CLASS" + std::to_string(klass);
	}
}

std::optional<uint16_t> DnsNames::parseType(const std::string& text)
{
	const std::string upper = Poco::toUpper(text);
	for (const auto& [code, name] : TYPES)
	{
		if (upper == name)
			return code;
	}
	if (upper.compare(0, 4, "TYPE") == 0)
		return parseNumber(upper.substr(4));
	return parseNumber(upper);
}

} // namespace dnsproxy::admin
