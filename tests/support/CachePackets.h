// CachePackets.h - queries and upstream answers built with PacketBuilder, for the cache, pipeline,
// fleet and cache persistence tests.
#pragma once

#include "cache/CacheKey.h"
#include "dns/Constants.h"
#include "dns/Message.h"
#include "dns/Name.h"
#include "dns/TtlWalker.h"
#include "support/PacketBuilder.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dnsproxy::test::cachepackets
{

inline std::vector<uint8_t> query(const std::string& name, uint16_t type, bool dnssecOk = false, bool cd = false,
								  uint16_t id = 0x4242, bool edns = true)
{
	PacketBuilder b;
	b.header(id, static_cast<uint16_t>(0x0100 | (cd ? 0x0010 : 0)), 1, 0, 0, edns ? 1 : 0).question(name, type);
	if (edns)
		b.opt(1232, dnssecOk);
	return b.data();
}

/// NOERROR answer with one A record (owner compressed to the question) per TTL given.
inline std::vector<uint8_t> answerA(const std::string& name, std::vector<uint32_t> ttls, uint16_t id = 0x1234,
									uint16_t flags = 0x8180)
{
	PacketBuilder b;
	b.header(id, flags, 1, static_cast<uint16_t>(ttls.size()), 0, 0).question(name, dns::Type::A);
	uint8_t last = 1;
	for (uint32_t ttl : ttls)
		b.pointer(12).rrFixed(dns::Type::A, dns::Class::IN, ttl, 4).bytes({192, 0, 2, last++});
	return b.data();
}

inline std::vector<uint8_t> soaRdata(uint32_t minimum)
{
	PacketBuilder b;
	b.name("ns.example").name("hostmaster.example").u32(2024010101).u32(7200).u32(3600).u32(1209600).u32(minimum);
	return b.data();
}

/// NXDOMAIN (rcode 3) or NODATA (rcode 0) with one SOA in the authority section.
inline std::vector<uint8_t> negative(const std::string& name, uint16_t type, uint8_t rcode, uint32_t soaTtl,
									 uint32_t minimum, bool withSoa = true)
{
	PacketBuilder b;
	b.header(0x1234, static_cast<uint16_t>(0x8180 | rcode), 1, 0, withSoa ? 1 : 0, 0).question(name, type);
	if (withSoa)
		b.rr("example", dns::Type::SOA, dns::Class::IN, soaTtl, soaRdata(minimum));
	return b.data();
}

inline std::vector<uint8_t> rcodeOnly(const std::string& name, uint16_t type, uint8_t rcode)
{
	PacketBuilder b;
	b.header(0x1234, static_cast<uint16_t>(0x8180 | rcode), 1, 0, 0, 0).question(name, type);
	return b.data();
}

inline std::string keyOf(const std::vector<uint8_t>& q)
{
	dns::MessageInfo info;
	if (dns::parseMessage(q.data(), q.size(), info) != dns::ParseError::NONE)
		throw std::runtime_error("test query does not parse");
	std::string key;
	if (!cache::CacheKey::fromQuery(q.data(), info, key))
		throw std::runtime_error("test query is not cacheable");
	return key;
}

inline std::string keyFor(const std::string& name, uint16_t type, bool dnssecOk = false, bool cd = false)
{
	return keyOf(query(name, type, dnssecOk, cd));
}

/// Every TTL of the message in order (OPT excluded).
inline std::vector<uint32_t> ttls(const std::vector<uint8_t>& msg)
{
	std::vector<uint32_t> out;
	dns::forEachTtl(msg.data(), msg.size(), [&](size_t, uint16_t, uint32_t ttl) { out.push_back(ttl); });
	return out;
}

} // namespace dnsproxy::test::cachepackets
