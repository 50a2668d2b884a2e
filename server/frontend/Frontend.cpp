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
	_stats(stats)
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
		probe(address);
	_workers.resize(_settings.threads);
	for (auto& worker : _workers)
	{
		worker.loop = std::make_unique<EventLoop>();
		for (const auto& address : _settings.listen)
		{
			try
			{
				if (_settings.udp)
					worker.udp.push_back(std::make_unique<UdpListener>(*worker.loop, address, _handler, _stats));
				if (_settings.tcp)
					worker.tcp.push_back(std::make_unique<TcpListener>(
						*worker.loop, address, _handler, _stats, _settings.tcpLimits, _settings.maxTcpConnections));
			}
			catch (const Poco::Exception& e)
			{
				throw BindError(address.toString() + ": cannot listen: " + e.displayText());
			}
		}
		auto* listeners = &worker.tcp;
		unsigned tickMs = std::max(50u, std::min(1000u, _settings.tcpLimits.idleTimeoutMs / 10));
		worker.loop->setTick(tickMs, [listeners]() {
			for (auto& listener : *listeners)
				listener->closeIdle();
		});
	}
	for (auto& worker : _workers)
		worker.loop->start();
	_running = true;
}

void Frontend::stop()
{
	if (!_running)
		return;
	_running = false;
	for (auto& worker : _workers)
	{
		auto* w = &worker;
		worker.loop->post([w]() {
			w->udp.clear();
			for (auto& listener : w->tcp)
				listener->closeAll();
			w->tcp.clear();
		});
	}
	// The loops are stopped but kept until the destructor: answers still arriving from upstream
	// threads post to them and must find them alive.
	for (auto& worker : _workers)
		worker.loop->stop();
}

} // namespace dnsproxy::frontend
