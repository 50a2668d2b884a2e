// QueryHandler.h - the seam between the front end (sockets) and whatever answers queries.
#pragma once

#include <Poco/Net/SocketAddress.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace dnsproxy::frontend
{

enum class Transport
{
	UDP,
	TCP
};

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

/// Receives every query the listeners read. Implemented by pipeline::QueryPipeline.
/// handleQuery() is called on a front-end worker thread and must not block.
class QueryHandler
{
public:
	virtual ~QueryHandler() = default;
	virtual void handleQuery(std::vector<uint8_t>&& query, const ClientInfo& client,
							 std::shared_ptr<Responder> responder) = 0;
};

} // namespace dnsproxy::frontend
