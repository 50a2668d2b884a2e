// Frontend.cpp - binding listeners and running the worker loops.
#include "frontend/Frontend.h"

#include "frontend/TlsClientStream.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/ServerSocket.h>

#include <algorithm>

namespace dnsproxy::frontend
{

Frontend::Frontend(const FrontendSettings& settings, QueryHandler& handler, stats::FrontendStats& stats):
	_settings(settings),
	_handler(handler),
	_stats(stats),
	_outputBudget(std::make_unique<OutputBudget>(settings.tcpLimits.maxTotalOutputBytes)),
	_registry(std::make_unique<ConnectionRegistry>(settings.maxTcpConnections, stats))
{
	if (_settings.threads == 0)
		_settings.threads = 1;
}

Frontend::~Frontend()
{
	stop();
	_workers.clear();
}

void Frontend::probe(const Poco::Net::SocketAddress& address)
{
	// The real sockets use SO_REUSEPORT, which would happily share a port with another process of the
	// same user (a second dnsproxy). Binding once without it first turns "port in use" into an error.
	bool v6 = address.family() == Poco::Net::SocketAddress::IPv6;
	if (_settings.udp)
	{
		try
		{
			Poco::Net::DatagramSocket socket(address.family());
			if (v6)
				socket.impl()->bind6(address, false, false, true);
			else
				socket.bind(address, false, false);
		}
		catch (const Poco::Exception& e)
		{
			throw BindError("udp://" + address.toString() + ": cannot listen: " + e.displayText());
		}
	}
	if (_settings.tcp)
		probeStream("tcp", address);
}

void Frontend::probeStream(const char* scheme, const Poco::Net::SocketAddress& address)
{
	try
	{
		Poco::Net::ServerSocket socket;
		if (address.family() == Poco::Net::SocketAddress::IPv6)
			socket.bind6(address, true, false, true);
		else
			socket.bind(address, true, false);
		socket.listen(1);
	}
	catch (const Poco::Exception& e)
	{
		throw BindError(std::string(scheme) + "://" + address.toString() + ": cannot listen: " + e.displayText());
	}
}

Poco::Net::SocketAddress Frontend::reserveStream(const Poco::Net::SocketAddress& address, Placeholders& placeholders)
{
	if (address.port() != 0)
		return address;
	try
	{
		Poco::Net::ServerSocket socket;
		if (address.family() == Poco::Net::SocketAddress::IPv6)
			socket.bind6(address, true, true, true);
		else
			socket.bind(address, true, true);
		placeholders.tcp.push_back(socket);
		return socket.address();
	}
	catch (const Poco::Exception& e)
	{
		throw BindError(address.toString() + ": cannot listen: " + e.displayText());
	}
}

void Frontend::start()
{
	for (const auto& address : _settings.listen)
	{
		if (std::find(_settings.heldByUs.begin(), _settings.heldByUs.end(), address) == _settings.heldByUs.end())
			probe(address);
	}
	for (const auto* list : {&_settings.tlsListen, &_settings.httpsListen})
		for (const auto& address : *list)
			if (std::find(_settings.heldByUs.begin(), _settings.heldByUs.end(), address) == _settings.heldByUs.end())
				probeStream(list == &_settings.tlsListen ? "tls" : "https", address);
	if ((!_settings.tlsListen.empty() || !_settings.httpsListen.empty()) && !_settings.tls)
		throw BindError("encrypted listeners need a certificate");
	_handshakeRate = std::make_shared<HandshakeRate>(_settings.handshakesPerSource);
	// The placeholders close at the end of start(), when the listeners hold the ports.
	const Placeholders placeholders = reservePorts();
	_workers.resize(_settings.threads);
	unsigned tickMs = std::max(50u, std::min(1000u, _settings.tcpLimits.idleTimeoutMs / 10));
	for (auto& worker : _workers)
	{
		if (!hasStreamListeners())
			break;
		worker.loop = std::make_unique<EventLoop>();
		worker.connections = std::make_unique<LoopConnections>(*worker.loop, _stats, _settings.tcpLimits);
		auto* connections = worker.connections.get();
		const bool watchCertificate = _settings.tls && &worker == &_workers.front();
		worker.loop->setTick(tickMs, [this, connections, watchCertificate]() {
			connections->closeIdle();
			if (watchCertificate)
				watchCertificateFiles();
		});
	}
	for (auto& worker : _workers)
		createListeners(worker);
	for (auto& worker : _workers)
	{
		if (worker.loop)
			worker.loop->start();
		for (auto& listener : worker.udp)
			listener->start();
	}
	_running = true;
}

Frontend::Placeholders Frontend::reservePorts()
{
	Placeholders placeholders;
	_boundUdp.clear();
	_boundTcp.clear();
	for (const auto& address : _settings.listen)
	{
		bool v6 = address.family() == Poco::Net::SocketAddress::IPv6;
		Poco::Net::SocketAddress udp = address;
		Poco::Net::SocketAddress tcp = address;
		try
		{
			if (_settings.udp && address.port() == 0)
			{
				Poco::Net::DatagramSocket socket(address.family());
				if (v6)
					socket.impl()->bind6(address, true, true, true);
				else
					socket.bind(address, true, true);
				udp = socket.address();
				placeholders.udp.push_back(socket);
			}
			if (_settings.tcp && address.port() == 0)
			{
				Poco::Net::ServerSocket socket;
				if (v6)
					socket.bind6(address, true, true, true);
				else
					socket.bind(address, true, true);
				tcp = socket.address();
				placeholders.tcp.push_back(socket);
			}
		}
		catch (const Poco::Exception& e)
		{
			throw BindError(address.toString() + ": cannot listen: " + e.displayText());
		}
		_boundUdp.push_back(udp);
		_boundTcp.push_back(tcp);
	}
	_boundTls.clear();
	_boundHttps.clear();
	for (const auto& address : _settings.tlsListen)
		_boundTls.push_back(reserveStream(address, placeholders));
	for (const auto& address : _settings.httpsListen)
		_boundHttps.push_back(reserveStream(address, placeholders));
	return placeholders;
}

void Frontend::createListeners(Worker& worker)
{
	for (size_t i = 0; i < _settings.listen.size(); ++i)
	{
		const auto& address = _settings.listen[i];
		try
		{
			if (_settings.udp)
				worker.udp.push_back(std::make_unique<UdpListener>(
					_boundUdp[i], _handler, _stats, std::chrono::microseconds(_settings.udpBatchWaitUs)));
			// One accepting thread, dealing connections to every loop: see the class comment.
			if (_settings.tcp && &worker == &_workers.front())
				worker.tcp.push_back(std::make_unique<TcpListener>(*worker.loop, _boundTcp[i], _handler, _stats,
																   _settings.tcpLimits, *_registry, *_outputBudget,
																   targets()));
		}
		catch (const Poco::Exception& e)
		{
			throw BindError(address.toString() + ": cannot listen: " + e.displayText());
		}
	}
	if (worker.loop && &worker == &_workers.front())
		createEncryptedListeners(worker);
}

void Frontend::createEncryptedListeners(Worker& worker)
{
	auto kindOf = [this](Transport transport) {
		ListenerKind kind;
		kind.transport = transport;
		const auto alpn = transport == Transport::DOH ? tls::Alpn::DOH : tls::Alpn::DOT;
		std::shared_ptr<tls::TlsServerContext> context = _settings.tls;
		// The context is asked per connection: a certificate reloaded meanwhile serves the next one.
		kind.makeStream = [context, alpn](int fd) -> std::unique_ptr<ClientStream> {
			std::shared_ptr<SSL_CTX> ctx = context->context(alpn);
			if (!ctx)
				return nullptr;
			return std::make_unique<TlsClientStream>(std::move(ctx), fd);
		};
		kind.handshakeRate = _handshakeRate;
		kind.doh = _settings.doh;
		return kind;
	};
	for (size_t i = 0; i < _boundTls.size() + _boundHttps.size(); ++i)
	{
		const bool dot = i < _boundTls.size();
		const auto& address = dot ? _boundTls[i] : _boundHttps[i - _boundTls.size()];
		try
		{
			worker.tcp.push_back(std::make_unique<TcpListener>(
				*worker.loop, address, _handler, _stats, _settings.tcpLimits, *_registry, *_outputBudget, targets(), kindOf(dot ? Transport::DOT : Transport::DOH)));
		}
		catch (const Poco::Exception& e)
		{
			throw BindError(std::string(dot ? "tls://" : "https://") + address.toString() +
							": cannot listen: " + e.displayText());
		}
	}
}

void Frontend::watchCertificateFiles()
{
	// Certbot and friends replace the files in place: look at them every couple of seconds (a
	// stat() each when nothing changed). A half-written pair is skipped until it loads cleanly.
	const auto now = EventLoop::Clock::now();
	if (now < _nextCertificateCheck)
		return;
	_nextCertificateCheck = now + CERTIFICATE_CHECK_INTERVAL;
	Poco::Logger& logger = Poco::Logger::get("dnsproxy");
	_settings.tls->rotateTicketKeysIfDue(); // an expired ticket key leaves memory on time
	if (_settings.tls->reloadIfChanged())
	{
		_certificateError.clear();
		logger.notice("tls: certificate reloaded: " + _settings.tls->describe() + ", pin-sha256=\"" +
					  _settings.tls->spkiPin() + "\"");
	}
	else if (const std::string error = _settings.tls->lastError(); !error.empty() && error != _certificateError)
	{
		_certificateError = error;
		logger.warning("tls: certificate files changed but not loaded, the running one stays: " + error);
	}
}

std::vector<LoopConnections*> Frontend::targets() const
{
	std::vector<LoopConnections*> out;
	for (const auto& worker : _workers)
		out.push_back(worker.connections.get());
	return out;
}

void Frontend::stopAccepting()
{
	if (!_running)
		return;
	for (auto& worker : _workers)
	{
		for (auto& listener : worker.udp)
			listener->stop();
		worker.udp.clear();
		if (!worker.loop)
			continue;
		auto* w = &worker;
		worker.loop->post([w]() { w->tcp.clear(); }); // the listening sockets only
	}
}

void Frontend::stop()
{
	if (!_running)
		return;
	stopAccepting(); // posts the listeners' close to each loop before the connections' below
	_running = false;
	for (auto& worker : _workers)
	{
		if (!worker.loop)
			continue;
		auto* w = &worker;
		worker.loop->post([w]() { w->connections->closeAll(); });
	}
	// The loops are stopped but kept until the destructor: answers still arriving from upstream
	// threads post to them and must find them alive. The accepting loop stops first; a connection
	// it dealt to another loop meanwhile is closed there (LoopConnections::closeAll).
	for (auto& worker : _workers)
	{
		if (worker.loop)
			worker.loop->stop();
	}
}

} // namespace dnsproxy::frontend
