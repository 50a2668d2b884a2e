// CacheKey.cpp - building and splitting packet cache keys.
#include "cache/CacheKey.h"

#include "dns/Constants.h"
#include "dns/Name.h"

namespace dnsproxy::cache
{

namespace
{

void appendSuffix(std::string& out, uint16_t qtype, uint16_t qclass, bool dnssecOk, bool checkingDisabled)
{
	out.push_back(static_cast<char>(qtype >> 8));
	out.push_back(static_cast<char>(qtype & 0xff));
	out.push_back(static_cast<char>(qclass >> 8));
	out.push_back(static_cast<char>(qclass & 0xff));
	out.push_back(static_cast<char>((dnssecOk ? CacheKey::FLAG_DO : 0) | (checkingDisabled ? CacheKey::FLAG_CD : 0)));
}

void appendLowerName(std::string& out, const uint8_t* name, size_t length)
{
	const size_t start = out.size();
	out.append(reinterpret_cast<const char*>(name), length);
	dns::toLowerWire(reinterpret_cast<uint8_t*>(&out[start]), length);
}

} // namespace

bool CacheKey::fromQuery(const uint8_t* msg, const dns::MessageInfo& info, std::string& out)
{
	out.clear();
	if (info.header.qdcount != 1 || info.qnameCompressed || info.qnameLength == 0)
		return false;
	appendLowerName(out, msg + info.qnameOffset, info.qnameLength);
	appendSuffix(out, info.qtype, info.qclass, info.edns.present && info.edns.dnssecOk, info.header.cd());
	return true;
}

std::string CacheKey::make(const uint8_t* nameWire, size_t nameLength, uint16_t qtype, uint16_t qclass, bool dnssecOk,
						   bool checkingDisabled)
{
	std::string key;
	key.reserve(nameLength + SUFFIX);
	appendLowerName(key, nameWire, nameLength);
	appendSuffix(key, qtype, qclass, dnssecOk, checkingDisabled);
	return key;
}

std::optional<CacheKey::Parts> CacheKey::parse(const std::string& key)
{
	if (key.size() < SUFFIX + 1)
		return std::nullopt;
	const auto* bytes = reinterpret_cast<const uint8_t*>(key.data());
	const size_t nameLen = key.size() - SUFFIX;
	// The name must be a plain run of labels that ends exactly at the suffix.
	size_t pos = 0;
	while (pos < nameLen && bytes[pos] != 0)
	{
		if (bytes[pos] > dns::MAX_LABEL_LENGTH)
			return std::nullopt;
		pos += 1 + bytes[pos];
	}
	if (pos + 1 != nameLen || nameLen > dns::MAX_NAME_LENGTH || (bytes[key.size() - 1] & ~(FLAG_DO | FLAG_CD)))
		return std::nullopt;
	Parts parts;
	parts.nameWire.assign(key, 0, nameLen);
	parts.qtype = dns::readU16(bytes + nameLen);
	parts.qclass = dns::readU16(bytes + nameLen + 2);
	parts.dnssecOk = bytes[nameLen + 4] & FLAG_DO;
	parts.checkingDisabled = bytes[nameLen + 4] & FLAG_CD;
	return parts;
}

} // namespace dnsproxy::cache
