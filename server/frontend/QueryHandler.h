// QueryHandler.h - the seam between the front end (sockets) and whatever answers queries.
#pragma once

#include <Poco/Net/SocketAddress.h>

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace dnsproxy::frontend
{

enum class Transport
{
	UDP,
	TCP,
	DOT, ///< DNS over TLS (RFC 7858), [server] tls_listen
	DOH  ///< DNS over HTTPS (RFC 8484), [server] https_listen
};

/// "udp", "tcp", "tls" or "https", as the configuration, the listener lines ("tls://...") and the
/// query log write it.
inline const char* transportName(Transport transport)
{
	switch (transport)
	{
	case Transport::UDP:
		return "udp";
	case Transport::TCP:
		return "tcp";
	case Transport::DOT:
		return "tls";
	case Transport::DOH:
		return "https";
	}
	return "?";
}

/// Whether answers on this transport travel encrypted (RFC 8467 padding applies).
inline bool encrypted(Transport transport)
{
	return transport == Transport::DOT || transport == Transport::DOH;
}

/// Where a query came from.
struct ClientInfo
{
	Poco::Net::SocketAddress address;
	Transport transport = Transport::UDP;
};

/// Carries one answer back to the client that asked. Exactly one of respond() or drop() is
/// called per query, from any thread (an upstream connection's thread, typically).
class Responder
{
public:
	virtual ~Responder() = default;
	virtual void respond(std::vector<uint8_t>&& answer) = 0;
	virtual void drop() = 0; ///< no answer will come (e.g. unparsable datagram): release resources
};

/// Makes the Responder for a query that is answered later; asked at most once per query.
class ResponderFactory
{
public:
	virtual ~ResponderFactory() = default;
	virtual std::shared_ptr<Responder> make() = 0;
};

/// A query as a listener read it. The bytes and the address are only valid during the call.
struct RawQuery
{
	const uint8_t* data = nullptr;
	size_t length = 0;
	const sockaddr* peer = nullptr; ///< AF_INET or AF_INET6
	socklen_t peerLength = 0;
	Transport transport = Transport::UDP;
};

/// Receives every query the listeners read. Implemented by pipeline::QueryPipeline.
/// Both entry points are called on a front-end worker thread and must not block.
class QueryHandler
{
public:
	virtual ~QueryHandler() = default;
	virtual void handleQuery(std::vector<uint8_t>&& query, const ClientInfo& client,
							 std::shared_ptr<Responder> responder) = 0;

	/// Whether a client at `peer` (AF_INET or AF_INET6) may use the proxy at all (the allow list).
	/// The TCP listener asks at accept, so a source outside `allow` never holds a connection slot
	/// nor makes room for itself by closing allowed clients' connections. Any thread; the default
	/// admits everyone.
	virtual bool admits(const sockaddr* peer) const
	{
		(void)peer;
		return true;
	}

	/// The listeners' entry point: one call per query, straight from the receive buffer. Either
	/// the answer is known at once (a fresh cache hit, an error answer): it is written into
	/// `answer` (reusing its capacity, so a warm hit allocates nothing) and true is returned, and
	/// the listener sends it with the rest of its batch. Or false: the handler took the query
	/// for later and answers through the Responder it got from `later` (at most one make()), or
	/// it dropped the query without asking for one (no answer will come).
	/// The default copies the query and calls handleQuery().
	virtual bool handleRaw(const RawQuery& query, std::vector<uint8_t>& answer, ResponderFactory& later)
	{
		(void)answer;
		ClientInfo client{Poco::Net::SocketAddress(query.peer, static_cast<poco_socklen_t>(query.peerLength)),
						  query.transport};
		handleQuery(std::vector<uint8_t>(query.data, query.data + query.length), client, later.make());
		return false;
	}
};

} // namespace dnsproxy::frontend
