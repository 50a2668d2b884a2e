// TcpFramer.h - splits a DNS-over-TCP byte stream into messages (2-byte length prefix, RFC 1035 4.2.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dnsproxy::dns
{

/// Reassembles length-prefixed DNS messages from whatever pieces a stream socket hands over.
///
/// The 2-byte prefix caps a message at 65535 octets, so the buffer never holds more than one
/// incomplete message plus what the caller appended since the last next(); the caller bounds the
/// latter by the size of its reads. A zero-length prefix is no DNS message (RFC 7766 8 leaves
/// nothing to recover): next() reports ZERO_LENGTH and the stream must be closed.
///
/// Threading: none; one framer per connection, used by that connection's thread only.
class TcpFramer
{
public:
	enum class Status
	{
		NEED_MORE,  ///< no complete message buffered
		FRAME,      ///< one message was moved into `out`
		ZERO_LENGTH ///< a zero-length prefix: the stream cannot be trusted any more
	};

	void append(const uint8_t* data, size_t length);

	/// Takes the next complete message out of the buffer, without its prefix.
	Status next(std::vector<uint8_t>& out);

	/// Octets buffered and not yet returned (prefixes included).
	size_t buffered() const
	{
		return _buffer.size() - _offset;
	}
	/// True when part of a message (or of its prefix) is buffered.
	bool partial() const
	{
		return buffered() > 0;
	}

	/// The message with its 2-byte prefix; empty when it is longer than 65535 octets.
	static std::vector<uint8_t> frame(const uint8_t* message, size_t length);

private:
	void compact();

	std::vector<uint8_t> _buffer;
	size_t _offset = 0; ///< start of the first message not yet returned
};

} // namespace dnsproxy::dns
