// AdminServer.cpp - Poco HTTPServer glue: request -> AdminRequest -> AdminRouter -> response.
#include "admin/AdminServer.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/URI.h>

#include <istream>

namespace dnsproxy::admin
{

namespace
{

/// One per request (Poco's factory contract); the router is shared and immutable.
class RequestHandler: public Poco::Net::HTTPRequestHandler
{
public:
	RequestHandler(std::shared_ptr<const AdminRouter> router, Poco::Logger& logger):
		_router(std::move(router)),
		_logger(logger)
	{
	}

	void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override
	{
		AdminResponse answer;
		try
		{
			answer = _router->handle(read(request));
		}
		catch (const Poco::Exception& e)
		{
			// A malformed URI or a client that vanished mid-body: nothing the router saw.
			_logger.warning("admin request %s %s from %s failed: %s", request.getMethod(), request.getURI(),
							request.clientAddress().toString(), e.displayText());
			answer.status = 400;
			answer.body = "{\"error\": \"unreadable request\"}\n";
		}
		try
		{
			response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
			response.setContentType(answer.contentType);
			response.set("Cache-Control", "no-store");
			for (const auto& [name, value] : answer.headers)
				response.set(name, value);
			response.setKeepAlive(false);
			response.sendBuffer(answer.body.data(), answer.body.size());
		}
		catch (const Poco::Exception& e)
		{
			_logger.information("admin answer to %s not sent: %s", request.clientAddress().toString(), e.displayText());
		}
	}

private:
	static AdminRequest read(Poco::Net::HTTPServerRequest& request)
	{
		AdminRequest out;
		out.method = request.getMethod();
		Poco::URI uri(request.getURI());
		out.path = uri.getPath();
		for (const auto& [key, value] : uri.getQueryParameters())
			out.query[key] = value;
		out.authorization = request.get("Authorization", "");
		out.host = request.get("Host", "");
		// Never read more than MAX_BODY + 1 bytes, whatever Content-Length claims.
		if (request.hasContentLength() && request.getContentLength64() > static_cast<int64_t>(AdminRouter::MAX_BODY))
		{
			out.bodyTooLarge = true;
			return out;
		}
		// Without Content-Length or chunking Poco would read a POST body until the peer closes;
		// HTTP/1.1 says such a request has no body (RFC 9112 section 6.3).
		if (!request.hasContentLength() && !request.getChunkedTransferEncoding())
			return out;
		std::istream& in = request.stream();
		out.body.resize(AdminRouter::MAX_BODY + 1);
		in.read(&out.body[0], static_cast<std::streamsize>(out.body.size()));
		out.body.resize(static_cast<size_t>(in.gcount()));
		out.bodyTooLarge = out.body.size() > AdminRouter::MAX_BODY;
		return out;
	}

	std::shared_ptr<const AdminRouter> _router;
	Poco::Logger& _logger;
};

class HandlerFactory: public Poco::Net::HTTPRequestHandlerFactory
{
public:
	HandlerFactory(std::shared_ptr<const AdminRouter> router, Poco::Logger& logger):
		_router(std::move(router)),
		_logger(logger)
	{
	}

	Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override
	{
		return new RequestHandler(_router, _logger); // HTTPServerConnection takes ownership
	}

private:
	std::shared_ptr<const AdminRouter> _router;
	Poco::Logger& _logger;
};

} // namespace

AdminServer::AdminServer(const AdminSettings& settings, AdminSources sources):
	_settings(settings),
	_router(std::make_shared<const AdminRouter>(sources, TokenAuth(settings.token, settings.tokenKey))),
	_threads("admin", 1, settings.threads), // only request workers: TCPServer accepts on its own thread
	_logger(Poco::Logger::get("dnsproxy.admin"))
{
}

AdminServer::~AdminServer()
{
	stop();
}

void AdminServer::start()
{
	Poco::Net::ServerSocket socket;
	try
	{
		const Poco::Net::SocketAddress address(_settings.listen);
		// SO_REUSEADDR for quick restarts, but not SO_REUSEPORT (Poco's two-argument bind sets
		// both): a second process on the same port must fail here, not share the port.
		socket.bind(address, true, false);
		socket.listen(_settings.backlog);
	}
	catch (const Poco::Exception& e)
	{
		throw AdminBindError("cannot listen on " + _settings.listen + ": " + e.displayText());
	}
	Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams; // ref-counted, owned by the server
	params->setMaxThreads(_settings.threads);
	params->setMaxQueued(_settings.maxQueued);
	params->setKeepAlive(false);
	params->setTimeout(Poco::Timespan(0, _settings.timeoutMs * 1000));
	params->setServerName("dnsproxy");
	params->setSoftwareVersion("dnsproxy/" DNSPROXY_VERSION);
	_server =
		std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(_router, _logger), // HTTPServer takes ownership
												_threads, socket, params);
	_server->start();
	_logger.information("admin API on http://%s/", socket.address().toString());
}

void AdminServer::stop()
{
	if (!_server)
		return;
	_server->stopAll(true);
	_server.reset();
	_threads.joinAll();
}

uint16_t AdminServer::port() const
{
	return _server ? _server->port() : 0;
}

} // namespace dnsproxy::admin
