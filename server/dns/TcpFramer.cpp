// TcpFramer.cpp - reassembly of length-prefixed DNS messages from a stream.
#include "dns/TcpFramer.h"

#include <algorithm>

namespace dnsproxy::dns
{

void TcpFramer::append(const uint8_t* data, size_t length)
{
	if (length == 0)
		return;
	compact();
	_buffer.insert(_buffer.end(), data, data + length);
}

TcpFramer::Status TcpFramer::next(std::vector<uint8_t>& out)
{
	const size_t available = buffered();
	if (available < 2)
	{
		compact();
		return Status::NEED_MORE;
	}
	const size_t length = (static_cast<size_t>(_buffer[_offset]) << 8) | _buffer[_offset + 1];
	if (length == 0)
		return Status::ZERO_LENGTH;
	if (available - 2 < length)
	{
		compact();
		return Status::NEED_MORE;
	}
	const auto begin = _buffer.begin() + static_cast<std::ptrdiff_t>(_offset + 2);
	out.assign(begin, begin + static_cast<std::ptrdiff_t>(length));
	_offset += 2 + length;
	if (_offset == _buffer.size())
	{
		_buffer.clear();
		_offset = 0;
	}
	return Status::FRAME;
}

void TcpFramer::compact()
{
	// Moving the tail forward once per read, not once per message, keeps pipelined input linear.
	if (_offset == 0)
		return;
	_buffer.erase(_buffer.begin(), _buffer.begin() + static_cast<std::ptrdiff_t>(_offset));
	_offset = 0;
}

std::vector<uint8_t> TcpFramer::frame(const uint8_t* message, size_t length)
{
	if (length > 65535)
		return {};
	std::vector<uint8_t> framed(length + 2);
	framed[0] = static_cast<uint8_t>(length >> 8);
	framed[1] = static_cast<uint8_t>(length & 0xff);
	std::copy(message, message + length, framed.begin() + 2);
	return framed;
}

} // namespace dnsproxy::dns
