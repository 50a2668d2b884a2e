// RedisConnection.cpp - bounded connect (TLS, AUTH, SELECT, ROLE), pipelined commands, broken connections dropped.
#include "fleet/RedisConnection.h"

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/Redis/Error.h>
#include <Poco/Redis/Exception.h>

#include <openssl/x509v3.h>

namespace dnsproxy::fleet
{

using Poco::Redis::Array;
using Poco::Redis::RedisType;

namespace
{

/// RFC 6125: the certificate names `host` in a subjectAltName (DNS name, or IP address for a
/// numeric host). POCO's own check is skipped for loopback names, so it is done here.
void checkPeerName(Poco::Net::SecureStreamSocket& socket, const std::string& host)
{
	const Poco::Net::X509Certificate certificate = socket.peerCertificate();
	X509* x509 = const_cast<X509*>(certificate.certificate());
	Poco::Net::IPAddress ip;
	const bool ok = Poco::Net::IPAddress::tryParse(host, ip)
						? X509_check_ip_asc(x509, host.c_str(), 0) == 1
						: X509_check_host(x509, host.c_str(), host.size(), 0, nullptr) == 1;
	if (!ok)
		throw Poco::Net::CertificateValidationException("TLS certificate of Redis does not name " + host +
														" (subject " + certificate.subjectName() + ")");
}

} // namespace

RedisConnection::RedisConnection(const RedisTarget& target, uint32_t timeoutMs):
	_target(target),
	_timeoutMs(timeoutMs)
{
}

RedisConnection::~RedisConnection()
{
	close();
}

void RedisConnection::close()
{
	if (!_input)
		return;
	_output.reset();
	_input.reset();
	try
	{
		_socket.close();
	}
	catch (const Poco::Exception&)
	{
		// The socket is going away either way; nothing to count.
	}
	_socket = Poco::Net::StreamSocket();
}

template <class F> auto RedisConnection::guarded(F&& f) -> decltype(f())
{
	try
	{
		return f();
	}
	catch (...)
	{
		close();
		throw;
	}
}

Poco::Timespan RedisConnection::budget() const
{
	const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(_timeoutMs) * 1000);
	if (!_deadline)
		return timeout;
	const auto left =
		std::chrono::duration_cast<std::chrono::microseconds>(*_deadline - std::chrono::steady_clock::now()).count();
	if (left <= 0)
		throw Poco::TimeoutException("Redis did not answer within the fleet timeout");
	return std::min(timeout, Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(left)));
}

void RedisConnection::open(const RedisEndpoint& endpoint, bool tls)
{
	close();
	// The name is resolved on every connect: a Redis container may come back with a new address.
	const Poco::Net::SocketAddress address(endpoint.hostAndPort());
	Poco::Net::StreamSocket plain;
	plain.connect(address, budget());
	plain.setReceiveTimeout(budget());
	plain.setSendTimeout(budget());
	plain.setNoDelay(true);
	if (tls)
	{
		// The handshake runs on the connected socket, its reads bounded by what is left.
		Poco::Net::SecureStreamSocket secure =
			Poco::Net::SecureStreamSocket::attach(plain, endpoint.host, _target.tlsContext());
		checkPeerName(secure, endpoint.host);
		_socket = secure;
	}
	else
		_socket = plain;
	_input = std::make_unique<Poco::Redis::RedisInputStream>(_socket);
	_output = std::make_unique<Poco::Redis::RedisOutputStream>(_socket);
	// A socket error inside the stream buffer (timeout, reset) comes out as itself, not as EOF.
	_input->exceptions(std::ios::badbit);
	_output->exceptions(std::ios::badbit);
}

void RedisConnection::openSentinel(const RedisEndpoint& endpoint)
{
	guarded([&] { open(endpoint, false); });
	_generation = 0;
}

void RedisConnection::ensure(uint64_t generation)
{
	if (_input && _generation == generation)
		return;
	const auto endpoint = _target.endpoint();
	if (!endpoint)
		throw Poco::Redis::RedisException("no master known yet");
	const RedisUrl& url = _target.url();
	guarded([&] {
		open(*endpoint, url.scheme == RedisUrl::Scheme::TLS);
		if (!url.password.empty())
		{
			Array auth;
			auth << "AUTH";
			if (!url.user.empty())
				auth << url.user;
			auth << url.password;
			auto reply = send(auth);
			if (isError(reply))
				throw Poco::Redis::RedisException("AUTH refused by " + endpoint->hostAndPort() + ": " +
												  errorText(reply));
		}
		if (url.db != 0)
		{
			Array select;
			select << "SELECT" << std::to_string(url.db);
			auto reply = send(select);
			if (isError(reply))
				throw Poco::Redis::RedisException("SELECT " + std::to_string(url.db) + " refused: " + errorText(reply));
		}
		if (url.scheme == RedisUrl::Scheme::SENTINEL)
		{
			// A Sentinel may still name a master that has just been demoted; writes there would fail.
			Array role;
			role << "ROLE";
			auto reply = array(send(role));
			auto kind = reply && reply->size() > 0 ? bulkString(*reply->begin()) : std::nullopt;
			if (kind != std::optional<std::string>("master"))
				throw Poco::Redis::RedisException(endpoint->hostAndPort() + " is not the master (role " +
												  kind.value_or("unknown") + ")");
		}
	});
	_generation = generation;
}

void RedisConnection::write(const Array& command)
{
	const std::string text = command.toString();
	_output->write(text.data(), static_cast<std::streamsize>(text.size()));
}

RedisType::Ptr RedisConnection::readReply()
{
	if (_deadline)
		_socket.setReceiveTimeout(budget());
	const int marker = _input->get();
	if (marker == std::char_traits<char>::eof())
		throw Poco::Redis::RedisException("connection closed by Redis");
	RedisType::Ptr reply = RedisType::createRedisType(static_cast<char>(marker));
	if (reply.isNull())
		throw Poco::Redis::RedisException("malformed reply from Redis");
	reply->read(*_input);
	return reply;
}

std::vector<RedisType::Ptr> RedisConnection::run(const std::vector<Array>& commands)
{
	if (!_input)
		throw Poco::IllegalStateException("redis: not connected");
	return guarded([&] {
		std::vector<RedisType::Ptr> replies;
		if (commands.empty())
			return replies;
		for (const auto& command : commands)
			write(command);
		_output->flush();
		if (!*_output)
			throw Poco::Redis::RedisException("write to Redis failed");
		replies.reserve(commands.size());
		for (size_t i = 0; i < commands.size(); ++i)
			replies.push_back(readReply());
		return replies;
	});
}

RedisType::Ptr RedisConnection::send(const Array& command)
{
	if (!_input)
		throw Poco::IllegalStateException("redis: not connected");
	return guarded([&] {
		write(command);
		_output->flush();
		if (!*_output)
			throw Poco::Redis::RedisException("write to Redis failed");
		return readReply();
	});
}

RedisType::Ptr RedisConnection::read()
{
	if (!_input)
		throw Poco::IllegalStateException("redis: not connected");
	return guarded([&] { return readReply(); });
}

std::optional<std::string> bulkString(const RedisType::Ptr& reply)
{
	if (reply.isNull() || reply->type() != Poco::Redis::RedisTypeTraits<Poco::Redis::BulkString>::TypeId)
		return std::nullopt;
	auto* bulk = dynamic_cast<const Poco::Redis::Type<Poco::Redis::BulkString>*>(reply.get());
	if (!bulk || bulk->value().isNull())
		return std::nullopt;
	return bulk->value().value();
}

std::optional<int64_t> integer(const RedisType::Ptr& reply)
{
	if (reply.isNull() || reply->type() != Poco::Redis::RedisTypeTraits<Poco::Int64>::TypeId)
		return std::nullopt;
	auto* number = dynamic_cast<const Poco::Redis::Type<Poco::Int64>*>(reply.get());
	if (!number)
		return std::nullopt;
	return number->value();
}

std::optional<Array> array(const RedisType::Ptr& reply)
{
	if (reply.isNull() || reply->type() != Poco::Redis::RedisTypeTraits<Array>::TypeId)
		return std::nullopt;
	auto* value = dynamic_cast<const Poco::Redis::Type<Array>*>(reply.get());
	if (!value || value->value().isNull())
		return std::nullopt;
	return value->value();
}

bool isError(const RedisType::Ptr& reply)
{
	return !reply.isNull() && reply->type() == Poco::Redis::RedisTypeTraits<Poco::Redis::Error>::TypeId;
}

std::string errorText(const RedisType::Ptr& reply)
{
	if (!isError(reply))
		return {};
	auto* error = dynamic_cast<const Poco::Redis::Type<Poco::Redis::Error>*>(reply.get());
	return error ? error->value().getMessage() : std::string();
}

} // namespace dnsproxy::fleet
