// PacketBuilder.cpp - byte-level DNS packet assembly and hex capture loading for tests.
#include "support/PacketBuilder.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef DNSPROXY_TEST_DATA
#define DNSPROXY_TEST_DATA "tests/data"
#endif

namespace dnsproxy::test
{

PacketBuilder& PacketBuilder::header(uint16_t id, uint16_t flags, uint16_t qdcount, uint16_t ancount, uint16_t nscount,
									 uint16_t arcount)
{
	return u16(id).u16(flags).u16(qdcount).u16(ancount).u16(nscount).u16(arcount);
}

PacketBuilder& PacketBuilder::u8(uint8_t value)
{
	_bytes.push_back(value);
	return *this;
}

PacketBuilder& PacketBuilder::u16(uint16_t value)
{
	return u8(static_cast<uint8_t>(value >> 8)).u8(static_cast<uint8_t>(value));
}

PacketBuilder& PacketBuilder::u32(uint32_t value)
{
	return u16(static_cast<uint16_t>(value >> 16)).u16(static_cast<uint16_t>(value));
}

PacketBuilder& PacketBuilder::bytes(std::initializer_list<uint8_t> values)
{
	_bytes.insert(_bytes.end(), values.begin(), values.end());
	return *this;
}

PacketBuilder& PacketBuilder::bytes(const std::vector<uint8_t>& values)
{
	_bytes.insert(_bytes.end(), values.begin(), values.end());
	return *this;
}

PacketBuilder& PacketBuilder::name(const std::string& dotted, bool terminate)
{
	size_t start = 0;
	while (start < dotted.size())
	{
		size_t dot = dotted.find('.', start);
		if (dot == std::string::npos)
			dot = dotted.size();
		if (dot > start)
		{
			u8(static_cast<uint8_t>(dot - start));
			_bytes.insert(_bytes.end(), dotted.begin() + static_cast<std::ptrdiff_t>(start),
						  dotted.begin() + static_cast<std::ptrdiff_t>(dot));
		}
		start = dot + 1;
	}
	if (terminate)
		u8(0);
	return *this;
}

PacketBuilder& PacketBuilder::pointer(uint16_t offset)
{
	return u16(static_cast<uint16_t>(0xC000 | offset));
}

PacketBuilder& PacketBuilder::question(const std::string& dotted, uint16_t type, uint16_t klass)
{
	return name(dotted).u16(type).u16(klass);
}

PacketBuilder& PacketBuilder::rrFixed(uint16_t type, uint16_t klass, uint32_t ttl, uint16_t rdlength)
{
	return u16(type).u16(klass).u32(ttl).u16(rdlength);
}

PacketBuilder& PacketBuilder::rr(const std::string& owner, uint16_t type, uint16_t klass, uint32_t ttl,
								 const std::vector<uint8_t>& rdata)
{
	return name(owner).rrFixed(type, klass, ttl, static_cast<uint16_t>(rdata.size())).bytes(rdata);
}

PacketBuilder& PacketBuilder::opt(uint16_t udpSize, bool dnssecOk, const std::vector<uint8_t>& options,
								  uint8_t extRcode, uint8_t version)
{
	const uint32_t ttl = (uint32_t(extRcode) << 24) | (uint32_t(version) << 16) | (dnssecOk ? 0x8000u : 0u);
	return u8(0).rrFixed(41, udpSize, ttl, static_cast<uint16_t>(options.size())).bytes(options);
}

PacketBuilder& PacketBuilder::patchU16(size_t offset, uint16_t value)
{
	_bytes.at(offset) = static_cast<uint8_t>(value >> 8);
	_bytes.at(offset + 1) = static_cast<uint8_t>(value);
	return *this;
}

std::vector<uint8_t> wireName(const std::string& dotted)
{
	PacketBuilder b;
	b.name(dotted);
	return b.data();
}

std::vector<uint8_t> ednsOption(uint16_t code, const std::vector<uint8_t>& data)
{
	std::vector<uint8_t> out;
	out.push_back(static_cast<uint8_t>(code >> 8));
	out.push_back(static_cast<uint8_t>(code));
	out.push_back(static_cast<uint8_t>(data.size() >> 8));
	out.push_back(static_cast<uint8_t>(data.size()));
	out.insert(out.end(), data.begin(), data.end());
	return out;
}

std::vector<uint8_t> tcpFramed(const std::vector<uint8_t>& message)
{
	if (message.size() > 0xffff)
		throw std::invalid_argument("a DNS message over TCP is at most 65535 octets");
	std::vector<uint8_t> out;
	out.push_back(static_cast<uint8_t>(message.size() >> 8));
	out.push_back(static_cast<uint8_t>(message.size()));
	out.insert(out.end(), message.begin(), message.end());
	return out;
}

std::optional<std::vector<uint8_t>> takeTcpFrame(std::vector<uint8_t>& stream)
{
	if (stream.size() < 2)
		return std::nullopt;
	const size_t length = (static_cast<size_t>(stream[0]) << 8) | stream[1];
	if (stream.size() - 2 < length)
		return std::nullopt;
	const auto end = stream.begin() + 2 + static_cast<std::ptrdiff_t>(length);
	std::vector<uint8_t> message(stream.begin() + 2, end);
	stream.erase(stream.begin(), end);
	return message;
}

std::vector<uint8_t> fromHex(const std::string& hex)
{
	std::vector<uint8_t> out;
	int high = -1;
	bool comment = false;
	for (const char c : hex)
	{
		if (comment)
		{
			comment = c != '\n';
			continue;
		}
		if (c == '#')
		{
			comment = true;
			continue;
		}
		int value;
		if (c >= '0' && c <= '9')
			value = c - '0';
		else if (c >= 'a' && c <= 'f')
			value = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			value = c - 'A' + 10;
		else
			continue;
		if (high < 0)
		{
			high = value;
		}
		else
		{
			out.push_back(static_cast<uint8_t>(high << 4 | value));
			high = -1;
		}
	}
	if (high >= 0)
		throw std::invalid_argument("odd number of hex digits");
	return out;
}

std::vector<uint8_t> loadHexCapture(const std::string& file)
{
	const std::string path = std::string(DNSPROXY_TEST_DATA) + "/" + file;
	std::ifstream in(path);
	if (!in)
		throw std::runtime_error("cannot open test capture " + path);
	std::ostringstream text;
	text << in.rdbuf();
	return fromHex(text.str());
}

} // namespace dnsproxy::test
