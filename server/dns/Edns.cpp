// Edns.cpp - OPT replacement that keeps every compression pointer of the message valid.
#include "dns/Edns.h"

#include "dns/Message.h"
#include "dns/Name.h"
#include "dns/RecordWalker.h"

#include <algorithm>

namespace dnsproxy::dns
{

namespace
{

/// Layout of RDATA that may hold compressed names: fixed octets, then names, then anything.
struct RdataLayout
{
	size_t prefix;
	int names;
};

/// Types whose RDATA names may be compressed (RFC 1035 3.3, RFC 3597 4 "SHOULD decompress" list
/// for RP, AFSDB, RT, PX, SRV; DNAME never should be, decompressing it is harmless).
bool compressibleRdata(uint16_t type, RdataLayout& layout)
{
	switch (type)
	{
	case 2:  // NS
	case 3:  // MD
	case 4:  // MF
	case 5:  // CNAME
	case 7:  // MB
	case 8:  // MG
	case 9:  // MR
	case 12: // PTR
	case 39: // DNAME
		layout = {0, 1};
		return true;
	case 6:  // SOA: MNAME RNAME + 20 octets
	case 14: // MINFO
	case 17: // RP
		layout = {0, 2};
		return true;
	case 15: // MX
	case 18: // AFSDB
	case 21: // RT
		layout = {2, 1};
		return true;
	case 26: // PX
		layout = {2, 2};
		return true;
	case 33: // SRV: priority, weight, port, target
		layout = {6, 1};
		return true;
	default:
		return false;
	}
}

/// Appends one RR, starting at rr.ownerOffset, with every name it may contain uncompressed.
bool appendDecompressed(const uint8_t* msg, size_t len, const RecordView& rr, std::vector<uint8_t>& out)
{
	size_t pos = rr.ownerOffset;
	if (readName(msg, len, pos, &out) != ParseError::NONE)
		return false;
	RdataLayout layout{0, 0};
	if (!compressibleRdata(rr.type, layout))
	{
		out.insert(out.end(), msg + rr.fixedOffset, msg + rr.end());
		return true;
	}
	out.insert(out.end(), msg + rr.fixedOffset, msg + rr.fixedOffset + 8);
	const size_t rdlengthAt = out.size();
	out.push_back(0);
	out.push_back(0);
	if (rr.rdlength < layout.prefix)
		return false;
	out.insert(out.end(), msg + rr.rdataOffset, msg + rr.rdataOffset + layout.prefix);
	pos = rr.rdataOffset + layout.prefix;
	for (int i = 0; i < layout.names; ++i)
	{
		if (readName(msg, len, pos, &out) != ParseError::NONE || pos > rr.end())
			return false;
	}
	out.insert(out.end(), msg + pos, msg + rr.end());
	const size_t rdlength = out.size() - rdlengthAt - 2;
	if (rdlength > UINT16_MAX)
		return false;
	writeU16(out.data() + rdlengthAt, static_cast<uint16_t>(rdlength));
	return true;
}

/// Whether the names kept in place (owners before the OPT and the RDATA names of their known
/// types) read only bytes before `optStart`. In a crafted message a label may run over record
/// boundaries into the OPT, whose bytes are about to change.
bool prefixSelfContained(const uint8_t* msg, size_t len, size_t optStart)
{
	bool contained = true;
	walkRecords(msg, len, [&](const RecordView& rr) {
		if (rr.ownerOffset >= optStart)
			return false;
		size_t pos = rr.ownerOffset;
		if (readName(msg, optStart, pos) != ParseError::NONE)
			contained = false;
		RdataLayout layout{0, 0};
		if (contained && compressibleRdata(rr.type, layout) && rr.rdlength >= layout.prefix)
		{
			pos = rr.rdataOffset + layout.prefix;
			for (int i = 0; i < layout.names && contained; ++i)
			{
				size_t original = pos;
				if (readName(msg, len, original) != ParseError::NONE)
					break; // not a name in the original either: copied as it is, means the same
				contained = readName(msg, optStart, pos) == ParseError::NONE;
			}
		}
		return contained;
	});
	return contained;
}

/// The message without its OPT RR (ARCOUNT not yet fixed). Bytes before the OPT keep their
/// offsets; records after it are re-encoded without pointers.
bool copyWithoutOpt(const uint8_t* msg, size_t len, const MessageInfo& info, std::vector<uint8_t>& out, size_t reserve)
{
	out.clear();
	if (!info.edns.present)
	{
		out.reserve(len + reserve);
		out.assign(msg, msg + len);
		return true;
	}
	const size_t optStart = info.edns.rrOffset;
	const size_t optEnd = optStart + info.edns.rrLength;
	if (!prefixSelfContained(msg, len, optStart))
		return false;
	out.reserve(len + reserve);
	out.assign(msg, msg + optStart);
	if (optEnd == len)
		return true;
	bool ok = true;
	const bool walked = walkRecords(msg, len, [&](const RecordView& rr) {
		if (rr.ownerOffset >= optEnd)
			ok = appendDecompressed(msg, len, rr, out);
		return ok;
	});
	return walked && ok && out.size() <= MAX_MESSAGE_SIZE;
}

/// Appends an OPT RR with the given class and TTL field and its already-encoded options.
bool appendOpt(std::vector<uint8_t>& out, uint16_t udpSize, uint32_t ttlField, const std::vector<uint8_t>& options)
{
	if (options.size() > UINT16_MAX || out.size() + 11 + options.size() > MAX_MESSAGE_SIZE)
		return false;
	uint8_t fixed[11];
	fixed[0] = 0;
	writeU16(fixed + 1, Type::OPT);
	writeU16(fixed + 3, udpSize);
	writeU32(fixed + 5, ttlField);
	writeU16(fixed + 9, static_cast<uint16_t>(options.size()));
	out.insert(out.end(), fixed, fixed + 11);
	out.insert(out.end(), options.begin(), options.end());
	return true;
}

void appendOption(std::vector<uint8_t>& options, uint16_t code, const uint8_t* data, size_t length)
{
	uint8_t head[4];
	writeU16(head, code);
	writeU16(head + 2, static_cast<uint16_t>(length));
	options.insert(options.end(), head, head + 4);
	options.insert(options.end(), data, data + length);
}

/// Options of the old OPT (if any) minus `dropCodes`, then `add`, encoded.
bool buildOptions(const uint8_t* msg, const MessageInfo& info, const std::vector<uint16_t>& dropCodes,
				  const std::vector<EdnsOption>& add, std::vector<uint8_t>& options)
{
	if (info.edns.present)
	{
		const size_t rdataStart = info.edns.rrOffset + 11;
		const size_t end = info.edns.rrOffset + info.edns.rrLength;
		// parseMessage has checked that the options exactly fill the RDATA.
		for (size_t pos = rdataStart; pos + 4 <= end;)
		{
			const uint16_t code = readU16(msg + pos);
			const uint16_t length = readU16(msg + pos + 2);
			if (std::find(dropCodes.begin(), dropCodes.end(), code) == dropCodes.end())
				appendOption(options, code, msg + pos + 4, length);
			pos += 4u + length;
		}
	}
	for (const EdnsOption& option : add)
	{
		if (option.data.size() > UINT16_MAX)
			return false;
		appendOption(options, option.code, option.data.data(), option.data.size());
	}
	return options.size() <= UINT16_MAX;
}

void setArcount(std::vector<uint8_t>& message, uint16_t arcount)
{
	writeArcount(message.data(), arcount);
}

struct OptFields
{
	uint16_t udpSize;
	uint32_t ttlField;
};

OptFields optFields(const uint8_t* msg, const MessageInfo& info, uint16_t udpSizeIfAbsent)
{
	if (!info.edns.present)
		return OptFields{udpSizeIfAbsent, 0};
	return OptFields{readU16(msg + info.edns.rrOffset + 3), readU32(msg + info.edns.rrOffset + 5)};
}

uint16_t arcountWithoutOpt(const MessageInfo& info)
{
	return static_cast<uint16_t>(info.header.arcount - (info.edns.present ? 1 : 0));
}

} // namespace

std::optional<std::vector<uint8_t>> rewriteOpt(const uint8_t* msg, size_t len, const MessageInfo& info,
											   uint16_t udpSizeIfAbsent, const std::vector<uint16_t>& dropCodes,
											   const std::vector<EdnsOption>& add, size_t padBlock)
{
	const uint16_t arcount = arcountWithoutOpt(info);
	if (arcount == UINT16_MAX)
		return std::nullopt;
	std::vector<uint8_t> options;
	if (padBlock > 0)
	{
		std::vector<uint16_t> drop = dropCodes;
		drop.push_back(EdnsOptionCode::PADDING);
		if (!buildOptions(msg, info, drop, add, options))
			return std::nullopt;
	}
	else if (!buildOptions(msg, info, dropCodes, add, options))
		return std::nullopt;
	std::vector<uint8_t> out;
	if (!copyWithoutOpt(msg, len, info, out, 11 + options.size() + (padBlock > 0 ? 4 + padBlock : 0)))
		return std::nullopt;
	if (padBlock > 0)
	{
		const size_t unpadded = out.size() + 11 + options.size() + 4;
		const size_t padding = (padBlock - unpadded % padBlock) % padBlock;
		if (unpadded + padding > MAX_MESSAGE_SIZE || options.size() + 4 + padding > UINT16_MAX)
			return std::nullopt;
		const size_t optionAt = options.size();
		options.resize(optionAt + 4 + padding, 0);
		writeU16(options.data() + optionAt, EdnsOptionCode::PADDING);
		writeU16(options.data() + optionAt + 2, static_cast<uint16_t>(padding));
	}
	const OptFields fields = optFields(msg, info, udpSizeIfAbsent);
	if (!appendOpt(out, fields.udpSize, fields.ttlField, options))
		return std::nullopt;
	setArcount(out, static_cast<uint16_t>(arcount + 1));
	return out;
}

std::optional<std::vector<uint8_t>> rewriteOpt(const uint8_t* msg, size_t len, uint16_t udpSizeIfAbsent,
											   const std::vector<uint16_t>& dropCodes,
											   const std::vector<EdnsOption>& add)
{
	MessageInfo info;
	if (parseMessage(msg, len, info, true) != ParseError::NONE)
		return std::nullopt;
	return rewriteOpt(msg, len, info, udpSizeIfAbsent, dropCodes, add);
}

const std::vector<uint16_t>& clientPrivateOptions()
{
	static const std::vector<uint16_t> codes{EdnsOptionCode::CLIENT_SUBNET, EdnsOptionCode::COOKIE};
	return codes;
}

const std::vector<uint16_t>& connectionOptions()
{
	static const std::vector<uint16_t> codes{EdnsOptionCode::TCP_KEEPALIVE, EdnsOptionCode::PADDING};
	return codes;
}

bool hasOption(const uint8_t* msg, const EdnsInfo& edns, const std::vector<uint16_t>& codes)
{
	if (!edns.present)
		return false;
	const size_t end = edns.rrOffset + edns.rrLength;
	// parseMessage has checked that the options exactly fill the RDATA.
	for (size_t pos = edns.rrOffset + 11; pos + 4 <= end; pos += 4u + readU16(msg + pos + 2))
	{
		if (std::find(codes.begin(), codes.end(), readU16(msg + pos)) != codes.end())
			return true;
	}
	return false;
}

std::optional<std::vector<uint8_t>> removeOpt(const uint8_t* msg, size_t len)
{
	MessageInfo info;
	if (parseMessage(msg, len, info, true) != ParseError::NONE)
		return std::nullopt;
	std::vector<uint8_t> out;
	if (!copyWithoutOpt(msg, len, info, out, 0))
		return std::nullopt;
	setArcount(out, arcountWithoutOpt(info));
	return out;
}

std::optional<std::vector<uint8_t>> padMessage(const uint8_t* msg, size_t len, size_t block)
{
	if (block == 0)
		return std::nullopt;
	MessageInfo info;
	if (parseMessage(msg, len, info, true) != ParseError::NONE)
		return std::nullopt;
	return rewriteOpt(msg, len, info, DEFAULT_UDP_PAYLOAD_SIZE, {}, {}, block);
}

} // namespace dnsproxy::dns
