// TcpResponder.h - how an answer made later (on an upstream thread) reaches its client stream connection.
#pragma once

#include "frontend/EventLoop.h"
#include "frontend/QueryHandler.h"
#include "frontend/TcpClientConnection.h"

#include <memory>
#include <vector>

namespace dnsproxy::frontend
{

/// Posts the answer (or its absence) to the connection's loop, holding only a weak_ptr: an answer
/// for a connection that has gone away is dropped. `tag` names the query within the connection
/// (DoH's request id; 0 on TCP and DoT). Any thread.
class TcpResponder: public Responder
{
public:
	TcpResponder(EventLoop& loop, std::weak_ptr<TcpClientConnection> connection, uint64_t tag):
		_loop(loop),
		_connection(std::move(connection)),
		_tag(tag)
	{
	}

	void respond(std::vector<uint8_t>&& answer) override
	{
		_loop.post([weak = _connection, tag = _tag, answer = std::move(answer)]() mutable {
			if (auto connection = weak.lock())
				connection->deliver(tag, std::move(answer));
		});
	}

	void drop() override
	{
		_loop.post([weak = _connection, tag = _tag]() {
			if (auto connection = weak.lock())
				connection->answerDropped(tag);
		});
	}

private:
	EventLoop& _loop;
	std::weak_ptr<TcpClientConnection> _connection;
	uint64_t _tag;
};

/// Makes the TcpResponder of a query answered later.
class TcpResponderFactory: public ResponderFactory
{
public:
	TcpResponderFactory(EventLoop& loop, TcpClientConnection& connection, uint64_t tag):
		_loop(loop),
		_connection(connection),
		_tag(tag)
	{
	}

	std::shared_ptr<Responder> make() override
	{
		_made = true;
		return std::make_shared<TcpResponder>(_loop, _connection.weak_from_this(), _tag);
	}

	bool made() const
	{
		return _made;
	}

private:
	EventLoop& _loop;
	TcpClientConnection& _connection;
	uint64_t _tag;
	bool _made = false;
};


} // namespace dnsproxy::frontend
