// TokenAuth.cpp - bearer-token check with a constant-time comparison.
#include "admin/TokenAuth.h"

#include <Poco/SHA2Engine.h>
#include <Poco/String.h>

#include <utility>

namespace dnsproxy::admin
{

namespace
{

std::string sha256(const std::string& text)
{
	Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
	engine.update(text);
	const Poco::DigestEngine::Digest& digest = engine.digest();
	return std::string(digest.begin(), digest.end());
}

} // namespace

TokenAuth::TokenAuth(std::string token, std::string configuredAt):
	_tokenDigest(token.empty() ? std::string() : sha256(token)),
	_configuredAt(std::move(configuredAt))
{
}

TokenAuth::Verdict TokenAuth::check(const std::string& authorizationHeader) const
{
	if (_tokenDigest.empty())
		return Verdict::NOT_CONFIGURED;
	// RFC 6750 2.1: the scheme is case-insensitive (RFC 7235 2.1); one or more spaces follow it.
	const std::string scheme = "bearer";
	if (authorizationHeader.size() <= scheme.size() ||
		Poco::icompare(authorizationHeader.substr(0, scheme.size()), scheme) != 0 ||
		authorizationHeader[scheme.size()] != ' ')
		return Verdict::MISSING;
	const std::string presented = Poco::trim(authorizationHeader.substr(scheme.size() + 1));
	if (presented.empty())
		return Verdict::MISSING;
	return constantTimeEquals(sha256(presented), _tokenDigest) ? Verdict::ALLOWED : Verdict::WRONG;
}

bool TokenAuth::constantTimeEquals(const std::string& a, const std::string& b)
{
	if (a.size() != b.size())
		return false;
	volatile unsigned char diff = 0;
	for (size_t i = 0; i < a.size(); ++i)
		diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
	return diff == 0;
}

} // namespace dnsproxy::admin
