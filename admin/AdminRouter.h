// AdminRouter.h - maps an admin HTTP request to its endpoint and builds the answer (SPEC section 6).
#pragma once

#include "admin/TokenAuth.h"
#include "stats/UnixClock.h"

#include <Poco/Logger.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::admin
{

class CacheControl;
class HealthSource;
class PinAdmin;
class StatsSource;

/// A request as the router needs it; AdminServer fills it from Poco's HTTPServerRequest.
struct AdminRequest
{
	std::string method;                       ///< "GET", "POST", ...
	std::string path;                         ///< decoded path without the query, e.g. "/pins/dot.example"
	std::map<std::string, std::string> query; ///< decoded query parameters (last one wins)
	std::string authorization;                ///< the Authorization header, or empty
	std::string host;                         ///< the Host header, or empty when the request has none
	std::string body;                         ///< at most MAX_BODY + 1 bytes (more means 413)
	bool bodyTooLarge = false;                ///< the declared or read body exceeded MAX_BODY
};

struct AdminResponse
{
	int status = 200;
	std::string contentType = "application/json";
	std::string body;
	std::vector<std::pair<std::string, std::string>> headers; ///< extra headers (Allow, WWW-Authenticate)
};

/// Where the router reads and acts; any of them may be null (component off): the endpoints that
/// need it then answer 503.
struct AdminSources
{
	const StatsSource* stats = nullptr;
	const HealthSource* health = nullptr;
	CacheControl* cache = nullptr;
	PinAdmin* pins = nullptr;
};

/// First the Host check against DNS rebinding (SPEC section 6): a request whose Host names a host
/// (anything but an IP literal or `localhost`) is refused with 421 before anything else, because a
/// page that rebinds its own name to 127.0.0.1 reaches this server with its name in Host, while a
/// browser showing http://127.0.0.1:8053/ or http://localhost:8053/ sends exactly those. The port
/// is not compared: ssh -L and docker -p forwards change it, and rebinding needs a name, not a
/// port. A request without Host (an HTTP/1.0 client) is answered: every browser sends one.
/// Then exact paths plus /pins/{name}. Unknown path -> 404, known path with another method -> 405
/// with Allow, mutating requests checked by TokenAuth first (401/403), then the body (413, 400).
/// Every answer except /, /metrics and /health's body is JSON; errors are {"error": "..."}.
/// handle() never throws: one catch per request logs to dnsproxy.admin and answers 500.
/// Threading: immutable after construction; handle() runs concurrently on admin worker threads
/// and is as thread-safe as the sources it calls.
class AdminRouter
{
public:
	static constexpr size_t MAX_BODY = 64 * 1024;

	/// `clock` gives unix seconds for pin approvals (injected for tests).
	AdminRouter(AdminSources sources, TokenAuth auth, stats::UnixClock clock = {});

	AdminResponse handle(const AdminRequest& request) const;

	/// True when a request with this Host header may be answered: empty (no header), or an IPv4
	/// literal, a bracketed IPv6 literal or `localhost` (with or without a trailing dot), each with
	/// an optional port.
	static bool isAllowedHost(const std::string& host);

	/// True when `text` is base64 (RFC 4648 section 4, padded) of exactly 32 bytes: a SHA-256 digest.
	static bool isSha256Base64(const std::string& text);

private:
	AdminResponse dispatch(const AdminRequest& request) const;
	/// 403 or 401 when a mutating request does not carry the configured token; nothing when it does.
	std::optional<AdminResponse> checkToken(const AdminRequest& request) const;
	/// The endpoint of an admitted request.
	AdminResponse callEndpoint(const AdminRequest& request) const;
	AdminResponse getStats() const;
	AdminResponse getMetrics() const;
	AdminResponse getHealth() const;
	AdminResponse getPins(const std::string& name) const;
	AdminResponse postPins(const AdminRequest& request) const;
	AdminResponse deletePins(const std::string& name) const;
	AdminResponse getCache(const AdminRequest& request) const;
	AdminResponse deleteCache(const AdminRequest& request) const;
	static AdminResponse getDashboard();

	AdminSources _sources;
	TokenAuth _auth;
	stats::UnixClock _clock;
	Poco::Logger& _logger;
};

} // namespace dnsproxy::admin
