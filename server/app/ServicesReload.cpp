// ServicesReload.cpp - Services::reload (SIGHUP, SPEC 2): prepare everything that can fail, then apply.
#include "app/Services.h"

#include "admin/AdminServer.h"
#include "app/ConfigSettings.h"
#include "app/ConfigTable.h"
#include "app/PinManager.h"
#include "cache/PacketCache.h"
#include "frontend/Frontend.h"
#include "pipeline/QueryPipeline.h"
#include "upstream/UpstreamPool.h"

#include <Poco/Logger.h>

namespace dnsproxy::app
{

namespace
{

bool sameTls(const TlsConfig& a, const TlsConfig& b)
{
	auto digests = [](const TlsConfig& c) {
		std::vector<std::string> out;
		for (const auto& pin : c.pins)
			out.push_back(pin.name + ":" + pin.sha256Base64);
		return out;
	};
	return a.profile == b.profile && a.caFile == b.caFile && digests(a) == digests(b) && a.pinPolicy == b.pinPolicy &&
		   a.sessionResumption == b.sessionResumption && a.minVersion == b.minVersion;
}

/// The settings the front end's sockets and workers are built from are the same.
bool sameListeners(const frontend::FrontendSettings& a, const frontend::FrontendSettings& b)
{
	return a.listen == b.listen && a.udp == b.udp && a.tcp == b.tcp && a.threads == b.threads &&
		   a.tcpLimits.idleTimeoutMs == b.tcpLimits.idleTimeoutMs && a.maxTcpConnections == b.maxTcpConnections &&
		   a.udpBatchWaitUs == b.udpBatchWaitUs && a.tlsListen == b.tlsListen && a.httpsListen == b.httpsListen &&
		   a.doh.path == b.doh.path && a.tcpLimits.handshakeTimeoutMs == b.tcpLimits.handshakeTimeoutMs &&
		   a.handshakesPerSource == b.handshakesPerSource;
}

} // namespace

std::vector<std::string> Services::reload(const Config& requested)
{
	Config next = requested;
	std::vector<std::string> restartOnly = keepRestartOnlyKeys(next);
	applyReload(next, prepareReload(next)); // prepareReload throws before anything changed
	return restartOnly;
}

/// Keys that need a restart keep their running value in `next`, so _config stays what really
/// runs; returns their names.
std::vector<std::string> Services::keepRestartOnlyKeys(Config& next) const
{
	std::vector<std::string> restartOnly;
	for (const auto& key : configKeys())
	{
		if (key.reloadable)
			continue;
		const std::string running = key.print(_config);
		if (key.print(next) == running)
			continue;
		restartOnly.push_back(key.fullName());
		key.parse(next, key.fullName(), running);
	}
	return restartOnly;
}

/// 1. Everything that can fail, before anything changes: the TLS context (a [tls] change
/// reconnects every server with the new rules), changed listeners, a moved admin server.
Services::PreparedReload Services::prepareReload(const Config& next)
{
	// The listeners' certificate first: files read again are what is on disk now, so taking them is
	// right even if a later step fails; a broken pair throws and the running one stays.
	reloadServerTls(next);
	PreparedReload prepared;
	prepared.context = _context;
	prepared.caFileChanged = modified(next.tls.caFile);
	if (!sameTls(next.tls, _config.tls) || prepared.caFileChanged != _caFileChanged)
		prepared.context = makeContext(next.tls);
	prepared.frontend = rebindFrontend(next);
	prepared.adminMoved = next.admin.listen != _config.admin.listen;
	prepared.adminChanged = prepared.adminMoved || next.admin.token != _config.admin.token;
	if (prepared.adminMoved)
	{
		try
		{
			prepared.admin = makeAdmin(next);
		}
		catch (const StartError&)
		{
			if (prepared.frontend)
				prepared.frontend->stop();
			throw;
		}
	}
	return prepared;
}

/// A new front end bound beside the running one (SO_REUSEPORT) when a listener key changed, else
/// null. Throws StartError naming the listen key when it cannot bind.
std::unique_ptr<frontend::Frontend> Services::rebindFrontend(const Config& next)
{
	const frontend::FrontendSettings running = frontendSettings(_config);
	frontend::FrontendSettings wanted = frontendSettings(next);
	if (sameListeners(wanted, running))
		return nullptr;
	wanted.heldByUs = running.listen;
	wanted.heldByUs.insert(wanted.heldByUs.end(), running.tlsListen.begin(), running.tlsListen.end());
	wanted.heldByUs.insert(wanted.heldByUs.end(), running.httpsListen.begin(), running.httpsListen.end());
	auto frontend = std::make_unique<frontend::Frontend>(wanted, *_pipeline, *_frontendStats);
	try
	{
		frontend->start();
	}
	catch (const frontend::BindError& e)
	{
		frontend->stop();
		throw StartError(listenKeyOf(e.what()) + ": " + e.what());
	}
	return frontend;
}

/// 2. Apply. Nothing here throws for a configuration that passed ConfigLoader.
void Services::applyReload(const Config& next, PreparedReload prepared)
{
	_pinManager->reconfigure(next.tls);
	_pool->reconfigure(makePoolSettings(next), prepared.context);
	_context = prepared.context;
	_caFileChanged = prepared.caFileChanged;
	_reloadedAcls.push_back(std::make_unique<frontend::ClientAcl>(makeAcl(next.server.allow)));
	_pipeline->setAcl(*_reloadedAcls.back());
	_pipeline->setLogQueries(next.log.queries);
	if (_cache)
		_cache->setTtlPolicy(next.cache);
	if (prepared.frontend)
	{
		// The old listeners close; their open client connections stay and are served until they
		// close (idle timeout, the client) or the proxy stops. The new listeners already serve.
		_frontend->stopAccepting();
		_oldFrontends.push_back(std::move(_frontend));
		_frontend = std::move(prepared.frontend);
	}
	if (prepared.adminChanged)
		replaceAdmin(next, prepared);
	_config = next;
}

/// The admin server of `next`: the one prepareReload() bound at a moved address (none when the
/// admin API was switched off), or, when only
/// the token changed, a new one at the same address (its failure is logged, not fatal).
void Services::replaceAdmin(const Config& next, PreparedReload& prepared)
{
	if (_adminServer)
		_adminServer->stop();
	_adminServer.reset();
	if (prepared.adminMoved)
	{
		_adminServer = std::move(prepared.admin);
		return;
	}
	try
	{
		_adminServer = makeAdmin(next);
	}
	catch (const StartError& e)
	{
		Poco::Logger::get("dnsproxy").error(std::string("reload: admin server not restarted: ") + e.what());
	}
}

void Services::recordReload(std::time_t when, const std::string& result)
{
	std::lock_guard<std::mutex> lock(_reloadMutex);
	++_reload.count;
	if (result != "ok")
		++_reload.failed;
	_reload.last = when;
	_reload.result = result;
}

} // namespace dnsproxy::app
