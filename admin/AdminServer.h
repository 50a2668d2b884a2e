// AdminServer.h - the embedded HTTP admin server (Poco::Net::HTTPServer) on the admin listen address.
#pragma once

#include "admin/AdminRouter.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace dnsproxy::admin
{

/// Thrown by start() when the listen address cannot be bound; the app exits 2 naming the key.
class AdminBindError: public std::runtime_error
{
public:
	using std::runtime_error::runtime_error;
};

struct AdminSettings
{
	std::string listen = "127.0.0.1:8053"; ///< "IP:port" or "[IPv6]:port"; port 0 picks one (tests)
	std::string token;                     ///< empty: mutating endpoints answer 403
	std::string tokenKey;                  ///< the setting that holds the token, named in that 403
	int threads = 4;                       ///< worker threads of the HTTP server
	int maxQueued = 256;                   ///< accepted connections waiting for a worker; beyond, refused
	int backlog = 256;                     ///< listen(2) backlog
	int timeoutMs = 5000;                  ///< per-connection receive/send timeout
};

/// Owns a Poco HTTPServer with its own small thread pool, so slow or many admin clients can
/// never take threads from the DNS front end; connections are not kept alive, so a browser
/// polling the dashboard does not pin a worker between polls. Each request body is read up to
/// 64 KiB + 1 byte and handed with the request line to AdminRouter (which never throws).
/// Threading: start() and stop() from the app's main thread; requests run on the pool's threads.
class AdminServer
{
public:
	AdminServer(const AdminSettings& settings, AdminSources sources);
	~AdminServer();
	AdminServer(const AdminServer&) = delete;
	AdminServer& operator=(const AdminServer&) = delete;

	/// Binds and starts serving; throws AdminBindError.
	void start();
	/// Stops accepting, aborts open connections and joins the workers. Idempotent.
	void stop();
	/// The bound port (useful with port 0); 0 before start().
	uint16_t port() const;

private:
	AdminSettings _settings;
	std::shared_ptr<const AdminRouter> _router;
	Poco::ThreadPool _threads;
	std::unique_ptr<Poco::Net::HTTPServer> _server;
	Poco::Logger& _logger;
};

} // namespace dnsproxy::admin
