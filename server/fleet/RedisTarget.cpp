// RedisTarget.cpp - the current Redis node and the TLS context for rediss://.
#include "fleet/RedisTarget.h"

#include <Poco/Net/RejectCertificateHandler.h>

namespace dnsproxy::fleet
{

RedisTarget::RedisTarget(RedisUrl url, const std::string& caFile):
	_url(std::move(url))
{
	if (_url.scheme != RedisUrl::Scheme::SENTINEL)
		_endpoint = RedisEndpoint{_url.host, _url.port};
	if (_url.scheme == RedisUrl::Scheme::TLS)
	{
		Poco::Net::Context::Params params;
		params.caLocation = caFile;
		params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
		params.loadDefaultCAs = false;
		params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
		_tls = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
		_tls->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
		// A chain that fails is refused, never "accepted anyway" through a prompt or global handler.
		_tls->setInvalidCertificateHandler(new Poco::Net::RejectCertificateHandler(false));
		// POCO's own name check skips loopback names unless VERIFY_STRICT, and hides why it failed:
		// RedisConnection checks the name itself after the handshake.
		_tls->enableExtendedCertificateVerification(false);
	}
}

std::optional<RedisEndpoint> RedisTarget::endpoint() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _endpoint;
}

bool RedisTarget::setEndpoint(const RedisEndpoint& endpoint)
{
	std::lock_guard<std::mutex> lock(_mutex);
	if (_endpoint && *_endpoint == endpoint)
		return false;
	_endpoint = endpoint;
	return true;
}

std::string RedisTarget::describe() const
{
	if (_url.scheme != RedisUrl::Scheme::SENTINEL)
		return _url.describe();
	const auto current = endpoint();
	std::string text = _url.describe();
	if (current)
		text.insert(7 + _url.master.size(), " (" + current->hostAndPort() + ")");
	return text;
}

} // namespace dnsproxy::fleet
