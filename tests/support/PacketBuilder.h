// PacketBuilder.h - assembles DNS packets byte by byte for reader tests, independently of dns::MessageWriter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::test
{

/// Deliberately dumb: it writes exactly what it is told (wrong counts, bad pointers and all),
/// so tests can describe malformed packets as easily as good ones.
class PacketBuilder
{
public:
	PacketBuilder& header(uint16_t id, uint16_t flags, uint16_t qdcount, uint16_t ancount, uint16_t nscount,
						  uint16_t arcount);
	PacketBuilder& u8(uint8_t value);
	PacketBuilder& u16(uint16_t value);
	PacketBuilder& u32(uint32_t value);
	PacketBuilder& bytes(std::initializer_list<uint8_t> values);
	PacketBuilder& bytes(const std::vector<uint8_t>& values);
	/// Uncompressed labels of a dotted name ("www.example.com", "." or "" for the root),
	/// terminated by the root label unless `terminate` is false.
	PacketBuilder& name(const std::string& dotted, bool terminate = true);
	/// A compression pointer (0xC000 | offset).
	PacketBuilder& pointer(uint16_t offset);
	PacketBuilder& question(const std::string& dotted, uint16_t type, uint16_t klass = 1);
	/// TYPE, CLASS, TTL, RDLENGTH after an owner name written separately.
	PacketBuilder& rrFixed(uint16_t type, uint16_t klass, uint32_t ttl, uint16_t rdlength);
	/// Owner (uncompressed) + fixed part + rdata.
	PacketBuilder& rr(const std::string& owner, uint16_t type, uint16_t klass, uint32_t ttl,
					  const std::vector<uint8_t>& rdata);
	/// Root-owned OPT RR: class = UDP size, TTL = ext rcode | version | DO, then the raw option bytes.
	PacketBuilder& opt(uint16_t udpSize, bool dnssecOk, const std::vector<uint8_t>& options = {}, uint8_t extRcode = 0,
					   uint8_t version = 0);
	/// Overwrites a big-endian 16-bit value already written (e.g. to fix a count or rdlength).
	PacketBuilder& patchU16(size_t offset, uint16_t value);

	size_t size() const
	{
		return _bytes.size();
	}
	const std::vector<uint8_t>& data() const
	{
		return _bytes;
	}

private:
	std::vector<uint8_t> _bytes;
};

/// A dotted name as uncompressed wire labels ending with the root label:
/// `PacketBuilder().name(dotted).data()`.
std::vector<uint8_t> wireName(const std::string& dotted);

/// One EDNS option encoded as code, length, data.
std::vector<uint8_t> ednsOption(uint16_t code, const std::vector<uint8_t>& data);

/// The message behind the 2-byte length prefix of DNS over TCP (RFC 1035 4.2.2). Written here,
/// not by dns::TcpFramer, so a test of our stream reader does not use our writer; the fakes and
/// clients of tests/support frame with it too.
std::vector<uint8_t> tcpFramed(const std::vector<uint8_t>& message);

/// Takes the first whole length-prefixed message off the front of `stream` (a zero-length prefix
/// gives an empty message); nullopt, leaving `stream` alone, while the message is incomplete.
std::optional<std::vector<uint8_t>> takeTcpFrame(std::vector<uint8_t>& stream);

/// Hex digits to bytes; whitespace is ignored and '#' starts a comment up to the end of the line.
std::vector<uint8_t> fromHex(const std::string& hex);

/// Reads tests/data/<file> (a .hex capture) through fromHex; throws std::runtime_error if missing.
std::vector<uint8_t> loadHexCapture(const std::string& file);

} // namespace dnsproxy::test
