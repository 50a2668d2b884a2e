// AdminRouter.cpp - endpoint dispatch, authorisation and validation of the admin API.
#include "admin/AdminRouter.h"

#include "admin/CacheControl.h"
#include "admin/Dashboard.h"
#include "admin/DnsNames.h"
#include "admin/HealthSource.h"
#include "admin/JsonView.h"
#include "admin/PinAdmin.h"
#include "admin/PrometheusView.h"
#include "admin/StatsSource.h"

#include <Poco/Exception.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>

#include <arpa/inet.h>

#include <cstring>
#include <exception>

namespace dnsproxy::admin
{

namespace
{

using Poco::JSON::Object;

const std::string PINS_PREFIX = "/pins/";

/// Methods each path accepts, in the order the Allow header lists them.
struct Route
{
	const char* path;
	const char* allow;
};

const Route ROUTES[] = {
	{"/", "GET"},           {"/stats", "GET"},         {"/metrics", "GET"},       {"/health", "GET"},
	{"/pins", "GET, POST"}, {"/pins/", "GET, DELETE"}, {"/cache", "GET, DELETE"},
};

AdminResponse json(int status, const Object::Ptr& object)
{
	AdminResponse response;
	response.status = status;
	response.body = JsonView::toString(object);
	return response;
}

AdminResponse error(int status, const std::string& message)
{
	return json(status, JsonView::error(message));
}

/// "/pins/{name}" with a name.
bool isPinPath(const std::string& path)
{
	return path.size() > PINS_PREFIX.size() && path.compare(0, PINS_PREFIX.size(), PINS_PREFIX) == 0;
}

/// The route of `path`, or null for an unknown path (and for "/pins/" without a name).
const Route* findRoute(const std::string& path)
{
	if (path == PINS_PREFIX)
		return nullptr;
	for (const auto& r : ROUTES)
	{
		if (path == r.path || (isPinPath(path) && std::strcmp(r.path, "/pins/") == 0))
			return &r;
	}
	return nullptr;
}

bool allows(const char* allow, const std::string& method)
{
	// "GET, DELETE" -> exact token match.
	const std::string list = std::string(", ") + allow + ",";
	return list.find(", " + method + ",") != std::string::npos;
}

/// Auth-names and cache names: letters, digits, '-', '_', '.', and ':' for IPv6 literals.
bool isPlausibleName(const std::string& name, size_t maxLength)
{
	if (name.empty() || name.size() > maxLength)
		return false;
	for (char c : name)
	{
		const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
						c == '_' || c == '.' || c == ':' || c == '*';
		if (!ok)
			return false;
	}
	return true;
}

/// Lower case with exactly one trailing dot, as the cache shows names ("example.com.").
std::string canonicalDnsName(const std::string& name)
{
	std::string canonical = Poco::toLower(name);
	if (canonical.empty() || canonical.back() != '.')
		canonical += '.';
	return canonical;
}

std::string authName(const std::string& name)
{
	std::string lower = Poco::toLower(name);
	while (!lower.empty() && lower.back() == '.')
		lower.pop_back();
	return lower;
}

} // namespace

AdminRouter::AdminRouter(AdminSources sources, TokenAuth auth, stats::UnixClock clock):
	_sources(sources),
	_auth(std::move(auth)),
	_clock(stats::orSystemClock(std::move(clock))),
	_logger(Poco::Logger::get("dnsproxy.admin"))
{
}

bool AdminRouter::isAllowedHost(const std::string& host)
{
	if (host.empty())
		return true;
	std::string name = host;
	std::string port;
	if (host.front() == '[')
	{
		const auto close = host.find(']');
		if (close == std::string::npos)
			return false;
		name = host.substr(1, close - 1);
		const std::string rest = host.substr(close + 1);
		if (!rest.empty() && rest.front() != ':')
			return false;
		port = rest.empty() ? "" : rest.substr(1);
		in6_addr address{};
		if (inet_pton(AF_INET6, name.c_str(), &address) != 1)
			return false;
	}
	else
	{
		const auto colon = host.find(':');
		if (colon != std::string::npos)
		{
			name = host.substr(0, colon);
			port = host.substr(colon + 1);
			if (port.empty())
				return false;
		}
		in_addr address{};
		const std::string lower = Poco::toLower(name);
		if (lower != "localhost" && lower != "localhost." && inet_pton(AF_INET, name.c_str(), &address) != 1)
			return false;
	}
	if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
		return false;
	return port.empty() || std::stoul(port) <= 65535;
}

bool AdminRouter::isSha256Base64(const std::string& text)
{
	// 32 bytes = 256 bits -> 43 symbols carrying 258 bits, then one '='; the 2 spare bits must be 0
	// so that one digest has exactly one spelling.
	static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (text.size() != 44 || text[43] != '=')
		return false;
	for (size_t i = 0; i < 43; ++i)
	{
		const char* p = std::strchr(ALPHABET, text[i]);
		if (text[i] == '\0' || p == nullptr)
			return false;
		if (i == 42 && ((p - ALPHABET) & 0x3) != 0)
			return false;
	}
	return true;
}

AdminResponse AdminRouter::handle(const AdminRequest& request) const
{
	try
	{
		return dispatch(request);
	}
	catch (const Poco::Exception& e)
	{
		_logger.error("%s %s failed: %s", request.method, request.path, e.displayText());
	}
	catch (const std::exception& e)
	{
		_logger.error("%s %s failed: %s", request.method, request.path, std::string(e.what()));
	}
	return error(500, "internal error");
}

AdminResponse AdminRouter::dispatch(const AdminRequest& request) const
{
	if (!isAllowedHost(request.host))
		return error(421, "Host is not an address of this admin server: open it as http://127.0.0.1:PORT/ or "
						  "http://localhost:PORT/ (names are refused against DNS rebinding)");
	const Route* route = findRoute(request.path);
	if (route == nullptr)
		return error(404, "no such endpoint: " + request.path);
	if (!allows(route->allow, request.method))
	{
		AdminResponse response = error(405, "method " + request.method + " not allowed on " + request.path);
		response.headers.emplace_back("Allow", route->allow);
		return response;
	}
	if (request.method != "GET")
	{
		if (auto refusal = checkToken(request))
			return *refusal;
	}
	if (request.bodyTooLarge || request.body.size() > MAX_BODY)
		return error(413, "request body larger than 64 KiB");
	return callEndpoint(request);
}

std::optional<AdminResponse> AdminRouter::checkToken(const AdminRequest& request) const
{
	switch (_auth.check(request.authorization))
	{
	case TokenAuth::Verdict::ALLOWED:
		break;
	case TokenAuth::Verdict::NOT_CONFIGURED:
		return error(403, "no admin token configured: set " +
							  (_auth.configuredAt().empty() ? std::string("a token") : _auth.configuredAt()) +
							  " to allow changes");
	case TokenAuth::Verdict::MISSING:
	case TokenAuth::Verdict::WRONG: {
		AdminResponse response = error(401, "missing or wrong bearer token");
		response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"dnsproxy\"");
		return response;
	}
	}
	return std::nullopt;
}

AdminResponse AdminRouter::callEndpoint(const AdminRequest& request) const
{
	const std::string& path = request.path;
	if (path == "/")
		return getDashboard();
	if (path == "/stats")
		return getStats();
	if (path == "/metrics")
		return getMetrics();
	if (path == "/health")
		return getHealth();
	if (path == "/pins")
	{
		if (request.method == "POST")
			return postPins(request);
		auto it = request.query.find("name");
		return getPins(it == request.query.end() ? std::string() : it->second);
	}
	if (isPinPath(path))
	{
		const std::string name = path.substr(PINS_PREFIX.size());
		return request.method == "DELETE" ? deletePins(name) : getPins(name);
	}
	// path == "/cache"
	return request.method == "DELETE" ? deleteCache(request) : getCache(request);
}

AdminResponse AdminRouter::getStats() const
{
	if (_sources.stats == nullptr)
		return error(503, "statistics are not available");
	return json(200, JsonView::stats(_sources.stats->snapshot()));
}

AdminResponse AdminRouter::getMetrics() const
{
	if (_sources.stats == nullptr)
		return error(503, "statistics are not available");
	AdminResponse response;
	response.contentType = PrometheusView::CONTENT_TYPE;
	response.body = PrometheusView::render(_sources.stats->snapshot());
	return response;
}

AdminResponse AdminRouter::getHealth() const
{
	Object::Ptr body = JsonView::object();
	const bool healthy = _sources.health != nullptr && _sources.health->healthy();
	body->set("status", healthy ? "ok" : "unavailable");
	return json(healthy ? 200 : 503, body);
}

AdminResponse AdminRouter::getPins(const std::string& name) const
{
	if (_sources.pins == nullptr)
		return error(503, "the pin store is not available");
	if (!name.empty() && !isPlausibleName(name, 253))
		return error(400, "not a valid name: " + name);
	const auto records = _sources.pins->list(name.empty() ? std::nullopt : std::optional<std::string>(authName(name)));
	return json(200, JsonView::pins(records));
}

AdminResponse AdminRouter::postPins(const AdminRequest& request) const
{
	Object::Ptr body;
	try
	{
		Poco::JSON::Parser parser;
		body = parser.parse(request.body).extract<Object::Ptr>();
	}
	catch (const Poco::Exception&)
	{
		return error(400, "body is not a JSON object");
	}
	catch (const std::exception&)
	{
		return error(400, "body is not a JSON object");
	}
	if (body.isNull())
		return error(400, "body is not a JSON object");
	if (!body->has("name") || !body->get("name").isString())
		return error(400, "\"name\" (string) is required");
	if (!body->has("sha256") || !body->get("sha256").isString())
		return error(400, "\"sha256\" (string) is required");
	const std::string name = body->getValue<std::string>("name");
	const std::string sha256 = body->getValue<std::string>("sha256");
	if (!isPlausibleName(name, 253))
		return error(400, "\"name\" is not a valid auth-name");
	if (!isSha256Base64(sha256))
		return error(400, "\"sha256\" must be the base64 of a 32-byte SHA-256 digest");
	if (_sources.pins == nullptr)
		return error(503, "the pin store is not available");
	const std::string canonical = authName(name);
	_sources.pins->approve(canonical, sha256, _clock());
	_logger.notice("pin approved for %s: %s", canonical, sha256);
	Object::Ptr answer = JsonView::object();
	answer->set("approved", true);
	answer->set("name", canonical);
	answer->set("sha256", sha256);
	return json(200, answer);
}

AdminResponse AdminRouter::deletePins(const std::string& name) const
{
	if (!isPlausibleName(name, 253))
		return error(400, "not a valid name: " + name);
	if (_sources.pins == nullptr)
		return error(503, "the pin store is not available");
	const std::string canonical = authName(name);
	const size_t forgotten = _sources.pins->forget(canonical);
	_logger.notice("pins of %s forgotten: %z", canonical, forgotten);
	Object::Ptr answer = JsonView::object();
	answer->set("name", canonical);
	answer->set("forgotten", static_cast<uint64_t>(forgotten));
	return json(200, answer);
}

AdminResponse AdminRouter::getCache(const AdminRequest& request) const
{
	// Without a name: every entry, up to the cache's own listing limit.
	auto name = request.query.find("name");
	const std::string wanted = name == request.query.end() ? std::string() : name->second;
	if (!wanted.empty() && !isPlausibleName(wanted, 255))
		return error(400, "not a valid name: " + wanted);
	std::optional<uint16_t> type;
	auto typeParam = request.query.find("type");
	if (typeParam != request.query.end() && !typeParam->second.empty())
	{
		type = DnsNames::parseType(typeParam->second);
		if (!type)
			return error(400, "unknown type: " + typeParam->second + " (use a mnemonic like AAAA or a number)");
	}
	if (_sources.cache == nullptr)
		return error(503, "the cache is disabled");
	const std::string canonical = wanted.empty() ? std::string() : canonicalDnsName(wanted);
	return json(200, JsonView::cacheEntries(canonical, _sources.cache->find(canonical, type)));
}

AdminResponse AdminRouter::deleteCache(const AdminRequest& request) const
{
	auto name = request.query.find("name");
	if (name != request.query.end() && !isPlausibleName(name->second, 255))
		return error(400, "not a valid name: " + name->second);
	if (_sources.cache == nullptr)
		return error(503, "the cache is disabled");
	Object::Ptr answer = JsonView::object();
	if (name == request.query.end())
	{
		_sources.cache->clear();
		_logger.notice("cache flushed");
		answer->set("flushed", "all");
	}
	else
	{
		const std::string canonical = canonicalDnsName(name->second);
		const size_t erased = _sources.cache->erase(canonical);
		_logger.information("cache entries of %s flushed: %z", canonical, erased);
		answer->set("flushed", canonical);
		answer->set("entries", static_cast<uint64_t>(erased));
	}
	return json(200, answer);
}

AdminResponse AdminRouter::getDashboard()
{
	AdminResponse response;
	response.contentType = "text/html; charset=utf-8";
	response.body = Dashboard::html();
	return response;
}

} // namespace dnsproxy::admin
