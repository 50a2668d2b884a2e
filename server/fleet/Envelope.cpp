// Envelope.cpp - sealing and opening signed fleet values (HMAC-SHA256, OpenSSL).
#include "fleet/Envelope.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/NumberParser.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sstream>

namespace dnsproxy::fleet
{

namespace
{

const std::string MAGIC = "DPX1";
constexpr size_t HEADER = 4 + 8 + 4 + Envelope::MAC_SIZE;

void putNumber(std::string& out, uint64_t value, int bytes)
{
	for (int i = bytes - 1; i >= 0; --i)
		out += static_cast<char>((value >> (8 * i)) & 0xff);
}

uint64_t getNumber(const std::string& in, size_t at, int bytes)
{
	uint64_t value = 0;
	for (int i = 0; i < bytes; ++i)
		value = (value << 8) | static_cast<unsigned char>(in[at + i]);
	return value;
}

std::string base64(const std::string& raw)
{
	std::ostringstream out;
	Poco::Base64Encoder encoder(out);
	encoder.rdbuf()->setLineLength(0);
	encoder << raw;
	encoder.close();
	return out.str();
}

} // namespace

std::optional<std::string> decodeBase64(const std::string& text)
{
	try
	{
		std::istringstream in(text);
		Poco::Base64Decoder decoder(in);
		std::string raw((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
		return raw;
	}
	catch (const Poco::Exception&)
	{
		return std::nullopt;
	}
}

Envelope::Envelope(std::string secret):
	_secret(std::move(secret))
{
}

std::string Envelope::mac(const std::string& key, const std::string& content, int64_t signedMs, uint32_t ttlS) const
{
	std::string input;
	input.reserve(16 + key.size() + content.size());
	putNumber(input, key.size(), 4);
	input += key;
	putNumber(input, static_cast<uint64_t>(signedMs), 8);
	putNumber(input, ttlS, 4);
	putNumber(input, content.size(), 4);
	input += content;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int length = 0;
	HMAC(EVP_sha256(), _secret.data(), static_cast<int>(_secret.size()),
		 reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest, &length);
	return std::string(reinterpret_cast<const char*>(digest), length);
}

Envelope::Verdict Envelope::check(const std::string& key, Opened& out, int64_t nowMs) const
{
	const std::string expected = mac(key, out.content, out.signedMs, out.ttlS);
	if (out.mac.size() != MAC_SIZE || CRYPTO_memcmp(expected.data(), out.mac.data(), MAC_SIZE) != 0)
		return Verdict::BAD_MAC;
	if (out.signedMs > nowMs + MAX_SKEW_MS)
		return Verdict::EXPIRED;
	if (out.ttlS != 0 && nowMs >= out.signedMs + int64_t(out.ttlS) * 1000)
		return Verdict::EXPIRED;
	return Verdict::OK;
}

std::string Envelope::seal(const std::string& key, const std::string& content, int64_t nowMs, uint32_t ttlS) const
{
	std::string sealed;
	sealed.reserve(HEADER + content.size());
	sealed += MAGIC;
	putNumber(sealed, static_cast<uint64_t>(nowMs), 8);
	putNumber(sealed, ttlS, 4);
	sealed += mac(key, content, nowMs, ttlS);
	sealed += content;
	return sealed;
}

Envelope::Verdict Envelope::open(const std::string& key, const std::string& sealed, int64_t nowMs, Opened& out) const
{
	if (sealed.size() < HEADER || sealed.compare(0, MAGIC.size(), MAGIC) != 0)
		return Verdict::MALFORMED;
	out.signedMs = static_cast<int64_t>(getNumber(sealed, 4, 8));
	out.ttlS = static_cast<uint32_t>(getNumber(sealed, 12, 4));
	out.mac = sealed.substr(16, MAC_SIZE);
	out.content = sealed.substr(HEADER);
	return check(key, out, nowMs);
}

std::string Envelope::tag(const std::string& key, const std::string& content, int64_t nowMs, uint32_t ttlS) const
{
	return std::to_string(nowMs) + " " + std::to_string(ttlS) + " " + base64(mac(key, content, nowMs, ttlS));
}

Envelope::Verdict Envelope::openText(const std::string& key, const std::string& text, int64_t nowMs, Opened& out) const
{
	const auto macAt = text.rfind(' ');
	if (macAt == std::string::npos || macAt == 0)
		return Verdict::MALFORMED;
	const auto ttlAt = text.rfind(' ', macAt - 1);
	if (ttlAt == std::string::npos || ttlAt == 0)
		return Verdict::MALFORMED;
	const auto signedAt = text.rfind(' ', ttlAt - 1);
	if (signedAt == std::string::npos)
		return Verdict::MALFORMED;
	Poco::Int64 signedMs = 0;
	unsigned ttl = 0;
	auto mac = decodeBase64(text.substr(macAt + 1));
	if (!Poco::NumberParser::tryParse64(text.substr(signedAt + 1, ttlAt - signedAt - 1), signedMs) || signedMs < 0 ||
		!Poco::NumberParser::tryParseUnsigned(text.substr(ttlAt + 1, macAt - ttlAt - 1), ttl) || !mac ||
		mac->size() != MAC_SIZE)
		return Verdict::MALFORMED;
	out.content = text.substr(0, signedAt);
	out.signedMs = signedMs;
	out.ttlS = ttl;
	out.mac = *mac;
	return check(key, out, nowMs);
}

const char* Envelope::verdictName(Verdict verdict)
{
	switch (verdict)
	{
	case Verdict::OK:
		return "ok";
	case Verdict::MALFORMED:
		return "unsigned or malformed";
	case Verdict::BAD_MAC:
		return "bad signature";
	case Verdict::EXPIRED:
		return "expired";
	}
	return "?";
}

} // namespace dnsproxy::fleet
