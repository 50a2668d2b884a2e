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
	/// Optional UDP fast path, tried before handleQuery(): when the answer needs nothing but local
	/// state (a fresh cache hit), writes it into `answer` (reusing its capacity) and returns true;
	/// the listener then sends it in its next sendmmsg batch. False means "not like this": the
	/// listener calls handleQuery() as usual, which also does all the counting and error answers.
	/// Called on the listener's loop thread; `peer` is the client's AF_INET/AF_INET6 address.
	virtual bool answerAtOnce(const uint8_t* query, size_t length, const sockaddr* peer, std::vector<uint8_t>& answer)
	{
		(void)query;
		(void)length;
		(void)peer;
		(void)answer;
		return false;
	}
};

} // namespace dnsproxy::frontend
