// fuzz_tcp_framer.cpp - fuzzes dns::TcpFramer: any stream cut into any pieces yields the same messages.
#include "FuzzCheck.h"
#include "dns/TcpFramer.h"

#include <cstdint>
#include <vector>

using namespace dnsproxy::dns;
using dnsproxy::fuzz::check;

namespace
{

/// The obvious one-pass reading of the same stream, for comparison.
std::vector<std::vector<uint8_t>> reference(const uint8_t* data, size_t size, bool& zero, size_t& rest)
{
	std::vector<std::vector<uint8_t>> frames;
	size_t offset = 0;
	zero = false;
	while (size - offset >= 2)
	{
		size_t length = (static_cast<size_t>(data[offset]) << 8) | data[offset + 1];
		if (length == 0)
		{
			zero = true;
			break;
		}
		if (size - offset - 2 < length)
			break;
		frames.emplace_back(data + offset + 2, data + offset + 2 + length);
		offset += 2 + length;
	}
	rest = size - offset;
	return frames;
}

} // namespace

// Input: byte 0 seeds the piece sizes (1..16 octets per append, or all at once when 0), the rest
// is the stream. Small lengths in the prefixes keep frames completable within a fuzz input.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
	const dnsproxy::fuzz::CostGuard costGuard;
	if (size < 1)
		return 0;
	const uint8_t seed = data[0];
	const uint8_t* stream = data + 1;
	const size_t length = size - 1;

	bool zero = false;
	size_t rest = 0;
	const auto expected = reference(stream, length, zero, rest);

	TcpFramer framer;
	std::vector<std::vector<uint8_t>> got;
	std::vector<uint8_t> out;
	bool sawZero = false;
	size_t offset = 0;
	unsigned step = seed;
	while (offset < length && !sawZero)
	{
		size_t piece = seed == 0 ? length : 1 + (step % 16);
		step = step * 33 + 7;
		if (piece > length - offset)
			piece = length - offset;
		framer.append(stream + offset, piece);
		offset += piece;
		for (;;)
		{
			TcpFramer::Status status = framer.next(out);
			if (status == TcpFramer::Status::NEED_MORE)
				break;
			if (status == TcpFramer::Status::ZERO_LENGTH)
			{
				sawZero = true;
				break;
			}
			check(!out.empty(), "a frame is never empty");
			got.push_back(out);
		}
	}
	check(sawZero == zero, "zero-length frame reported exactly when present");
	check(got == expected, "same frames whatever the piece sizes");
	if (!zero)
		check(framer.buffered() == rest, "buffered octets are the incomplete tail");
	for (const auto& frame : got)
	{
		auto framed = TcpFramer::frame(frame.data(), frame.size());
		check(framed.size() == frame.size() + 2, "frame() adds the 2-octet prefix");
		check(((static_cast<size_t>(framed[0]) << 8) | framed[1]) == frame.size(), "prefix is the length");
	}
	return 0;
}
