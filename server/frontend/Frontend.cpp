// Frontend.cpp - binding listeners and running the worker loops.
#include "frontend/Frontend.h"

#include <Poco/Exception.h>
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
	{
		try
		{
			Poco::Net::ServerSocket socket;
			if (v6)
				socket.bind6(address, true, false, true);
			else
				socket.bind(address, true, false);
			socket.listen(1);
		}
		catch (const Poco::Exception& e)
		{
			throw BindError("tcp://" + address.toString() + ": cannot listen: " + e.displayText());
		}
	}
}

void Frontend::start()
{
	for (const auto& address : _settings.listen)
	{
		if (std::find(_settings.heldByUs.begin(), _settings.heldByUs.end(), address) == _settings.heldByUs.end())
			probe(address);
	}
	// The placeholders close at the end of start(), when the listeners hold the ports.
	const Placeholders placeholders = reservePorts();
	_workers.resize(_settings.threads);
	unsigned tickMs = std::max(50u, std::min(1000u, _settings.tcpLimits.idleTimeoutMs / 10));
	for (auto& worker : _workers)
	{
		if (!_settings.tcp)
			break;
		worker.loop = std::make_unique<EventLoop>();
		worker.connections = std::make_unique<LoopConnections>(*worker.loop, _stats, _settings.tcpLimits);
		auto* connections = worker.connections.get();
		worker.loop->setTick(tickMs, [connections]() { connections->closeIdle(); });
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
}

std::vector<LoopConnections*> Frontend::targets() const
{
	std::vector<LoopConnections*> out;
	for (const auto& worker : _workers)
		out.push_back(worker.connections.get());
	return out;
}

void Frontend::stop()
{
	if (!_running)
		return;
	_running = false;
	for (auto& worker : _workers)
	{
		for (auto& listener : worker.udp)
			listener->stop();
		worker.udp.clear();
		if (!worker.loop)
			continue;
		auto* w = &worker;
		worker.loop->post([w]() {
			w->tcp.clear();
			w->connections->closeAll();
		});
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
