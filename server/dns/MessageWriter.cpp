// MessageWriter.cpp - message building with suffix compression of owner names.
#include "dns/MessageWriter.h"

#include "dns/Name.h"

namespace dnsproxy::dns
{

namespace
{

constexpr size_t MAX_POINTER_TARGET = 0x3FFF;

/// Number of labels (root excluded) of an uncompressed, validated wire name.
size_t labelCount(const uint8_t* name, size_t nameLen)
{
	size_t count = 0;
	for (size_t pos = 0; pos < nameLen && name[pos] != 0; pos += 1u + name[pos])
		++count;
	return count;
}

} // namespace

MessageWriter::MessageWriter(size_t maxSize):
	_maxSize(maxSize < MAX_MESSAGE_SIZE ? maxSize : MAX_MESSAGE_SIZE)
{
}

void MessageWriter::setHeader(const Header& header)
{
	_header = header;
}

size_t MessageWriter::size() const
{
	return HEADER_SIZE + _body.size();
}

bool MessageWriter::validName(const uint8_t* name, size_t nameLen) const
{
	if (name == nullptr || nameLen == 0 || nameLen > MAX_NAME_LENGTH)
		return false;
	size_t pos = 0;
	while (pos < nameLen)
	{
		const uint8_t labelLength = name[pos];
		if (labelLength == 0)
			return pos + 1 == nameLen;
		if (labelLength > MAX_LABEL_LENGTH)
			return false;
		pos += 1u + labelLength;
	}
	return false;
}

bool MessageWriter::enterSection(int section)
{
	if (section < _section)
		return false;
	_section = section;
	return true;
}

void MessageWriter::rememberName(const uint8_t* name, size_t nameLen, size_t messageOffset, size_t literalBytes)
{
	// Only the labels written literally (the first `literalBytes`) are new compression targets.
	const size_t index = _names.size();
	_names.emplace_back(name, name + nameLen);
	for (size_t pos = 0; pos < literalBytes && name[pos] != 0; pos += 1u + name[pos])
	{
		if (messageOffset + pos > MAX_POINTER_TARGET)
			break;
		_suffixes.push_back(Suffix{static_cast<uint16_t>(messageOffset + pos), index, pos});
	}
}

bool MessageWriter::addQuestion(const uint8_t* name, size_t nameLen, uint16_t type, uint16_t klass)
{
	if (!validName(name, nameLen) || _section > 0 || _counts[0] == UINT16_MAX || size() + nameLen + 4 > _maxSize)
		return false;
	const size_t offset = size();
	_body.insert(_body.end(), name, name + nameLen);
	uint8_t fixed[4];
	writeU16(fixed, type);
	writeU16(fixed + 2, klass);
	_body.insert(_body.end(), fixed, fixed + 4);
	rememberName(name, nameLen, offset, nameLen);
	++_counts[0];
	return true;
}

bool MessageWriter::addRecord(int section, const uint8_t* name, size_t nameLen, uint16_t type, uint16_t klass,
							  uint32_t ttl, const uint8_t* rdata, size_t rdlen)
{
	if (section < 1 || section > 3 || section < _section || !validName(name, nameLen) || rdlen > UINT16_MAX ||
		(rdlen > 0 && rdata == nullptr) || _counts[section] == UINT16_MAX)
		return false;

	// Longest already-written suffix of `name`, searched from the full name down to the last label.
	size_t literal = nameLen; // bytes written as labels; nameLen means no pointer
	uint16_t pointer = 0;
	const size_t labels = labelCount(name, nameLen);
	size_t pos = 0;
	for (size_t l = 0; l < labels && literal == nameLen; ++l, pos += 1u + name[pos])
	{
		for (const Suffix& suffix : _suffixes)
		{
			const std::vector<uint8_t>& other = _names[suffix.nameIndex];
			if (namesEqualIgnoreCase(name + pos, nameLen - pos, other.data() + suffix.suffixOffset,
									 other.size() - suffix.suffixOffset))
			{
				literal = pos;
				pointer = suffix.offset;
				break;
			}
		}
	}
	const size_t ownerBytes = literal == nameLen ? nameLen : literal + 2;
	if (size() + ownerBytes + RR_FIXED_SIZE + rdlen > _maxSize)
		return false;
	if (!enterSection(section))
		return false;

	const size_t offset = size();
	_body.insert(_body.end(), name, name + literal);
	if (literal != nameLen)
	{
		_body.push_back(static_cast<uint8_t>(0xC0 | (pointer >> 8)));
		_body.push_back(static_cast<uint8_t>(pointer & 0xFF));
	}
	uint8_t fixed[RR_FIXED_SIZE];
	writeU16(fixed + RR_TYPE_OFFSET, type);
	writeU16(fixed + RR_CLASS_OFFSET, klass);
	writeU32(fixed + RR_TTL_OFFSET, ttl);
	writeU16(fixed + RR_RDLENGTH_OFFSET, static_cast<uint16_t>(rdlen));
	_body.insert(_body.end(), fixed, fixed + RR_FIXED_SIZE);
	if (rdlen > 0)
		_body.insert(_body.end(), rdata, rdata + rdlen);
	rememberName(name, nameLen, offset, literal == nameLen ? nameLen : literal);
	++_counts[section];
	return true;
}

bool MessageWriter::addOpt(uint16_t udpSize, bool dnssecOk,
						   const std::vector<std::pair<uint16_t, std::vector<uint8_t>>>& options, uint8_t extRcode,
						   uint8_t version)
{
	if (_hasOpt || _section > 3 || _counts[3] == UINT16_MAX)
		return false;
	size_t rdlen = 0;
	for (const auto& option : options)
	{
		if (option.second.size() > UINT16_MAX)
			return false;
		rdlen += 4 + option.second.size();
	}
	if (rdlen > UINT16_MAX || size() + 11 + rdlen > _maxSize)
		return false;
	enterSection(3);
	uint8_t fixed[11];
	fixed[0] = 0; // root owner
	writeU16(fixed + 1, 41);
	writeU16(fixed + 3, udpSize);
	const uint32_t ttl = (uint32_t(extRcode) << 24) | (uint32_t(version) << 16) | (dnssecOk ? 0x8000u : 0u);
	writeU32(fixed + 5, ttl);
	writeU16(fixed + 9, static_cast<uint16_t>(rdlen));
	_body.insert(_body.end(), fixed, fixed + 11);
	for (const auto& option : options)
	{
		uint8_t head[4];
		writeU16(head, option.first);
		writeU16(head + 2, static_cast<uint16_t>(option.second.size()));
		_body.insert(_body.end(), head, head + 4);
		_body.insert(_body.end(), option.second.begin(), option.second.end());
	}
	_hasOpt = true;
	++_counts[3];
	return true;
}

std::vector<uint8_t> MessageWriter::finish()
{
	std::vector<uint8_t> message(HEADER_SIZE + _body.size());
	Header header = _header;
	header.qdcount = _counts[0];
	header.ancount = _counts[1];
	header.nscount = _counts[2];
	header.arcount = _counts[3];
	header.write(message.data());
	std::copy(_body.begin(), _body.end(), message.begin() + HEADER_SIZE);
	return message;
}

} // namespace dnsproxy::dns
