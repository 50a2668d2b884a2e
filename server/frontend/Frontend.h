// Frontend.h - the client-facing side: worker loops with UDP and TCP listeners on every address.
#pragma once

#include "common/Error.h"
#include "frontend/ConnectionRegistry.h"
#include "frontend/EventLoop.h"
#include "frontend/LoopConnections.h"
#include "frontend/QueryHandler.h"
#include "frontend/TcpClientConnection.h"
#include "frontend/TcpListener.h"
#include "frontend/UdpListener.h"
#include "frontend/doh/DohSession.h"
#include "frontend/tls/TlsServerContext.h"
#include "stats/Stats.h"

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <memory>
#include <string>
#include <vector>

namespace dnsproxy::frontend
{

struct FrontendSettings
{
	std::vector<Poco::Net::SocketAddress> listen;
	bool udp = true;
	bool tcp = true;
	unsigned threads = 1;
	TcpLimits tcpLimits;
	uint32_t maxTcpConnections = 1024;
	uint32_t udpBatchWaitUs = 0; ///< see BatchPacer; the app sets it from the configuration
	/// Encrypted listeners (TCP only): DNS over TLS and DNS over HTTPS, with their certificate.
	std::vector<Poco::Net::SocketAddress> tlsListen;
	std::vector<Poco::Net::SocketAddress> httpsListen;
	std::shared_ptr<tls::TlsServerContext> tls; ///< required when either list is not empty
	doh::DohSettings doh;
	uint32_t handshakesPerSource = 0; ///< new TLS handshakes per second per source; 0 = no limit
	/// SIGHUP reload: addresses the running front end already listens on. They are not probed for
	/// "in use": the new listeners share them through SO_REUSEPORT until the old front end stops.
	std::vector<Poco::Net::SocketAddress> heldByUs;
};

/// A listen address that could not be bound; what() names protocol, address and reason.
using BindError = common::Error<struct BindErrorTag>;

/// Owns `threads` workers. Each worker has its own SO_REUSEPORT UDP socket per address, served by
/// its own thread (see UdpListener), so the kernel spreads datagrams over the workers and no lock
/// is shared between them on the receive path. With TCP on, each worker also has an EventLoop
/// serving client stream connections (LoopConnections), with their TLS or HTTP/2 work. The first
/// worker's loop also holds one TcpListener per address, which accepts, asks the one
/// ConnectionRegistry for a slot, and deals the connections to the loops round-robin. The
/// registry keeps max_tcp_connections and "close the idlest connection of the process" exact
/// across the loops; the single accepting thread keeps "idlest" in arrival order (per-worker
/// SO_REUSEPORT accept queues stamp connections out of order when one loop lags: see
/// docs/DESIGN.md).
///
/// Threading: start() and stop() from the main thread; everything else runs on the workers.
class Frontend
{
public:
	Frontend(const FrontendSettings& settings, QueryHandler& handler, stats::FrontendStats& stats);
	~Frontend();

	/// Binds every socket (throws BindError when an address is in use or invalid), then starts the loops.
	void start();
	/// SIGHUP reload with other listeners: closes the listening and UDP sockets but keeps the worker
	/// loops and their client connections, which go on being served (under the limits they were
	/// opened with) until they close or stop() ends them. The new front end already listens.
	void stopAccepting();
	/// Stops accepting and reading, closes client connections and joins the workers. Answers that
	/// arrive afterwards are dropped; the loops themselves live until the destructor.
	void stop();

	/// The addresses the listeners actually bound, in `listen` order, after start(): a port 0 in
	/// the settings is replaced by the port the kernel chose (shared by every worker). Empty for a
	/// protocol that is switched off.
	std::vector<Poco::Net::SocketAddress> boundUdpAddresses() const
	{
		return _settings.udp ? _boundUdp : std::vector<Poco::Net::SocketAddress>();
	}
	std::vector<Poco::Net::SocketAddress> boundTcpAddresses() const
	{
		return _settings.tcp ? _boundTcp : std::vector<Poco::Net::SocketAddress>();
	}
	/// The same for the DoT and DoH listeners.
	std::vector<Poco::Net::SocketAddress> boundTlsAddresses() const
	{
		return _boundTls;
	}
	std::vector<Poco::Net::SocketAddress> boundHttpsAddresses() const
	{
		return _boundHttps;
	}
	/// Bytes of answers buffered for TCP clients and not written yet, all connections together.
	size_t bufferedTcpOutput() const
	{
		return _outputBudget->used();
	}

private:
	struct Worker
	{
		std::unique_ptr<EventLoop> loop;              ///< client TCP connections; null with TCP off
		std::unique_ptr<LoopConnections> connections; ///< those living on `loop`
		std::vector<std::unique_ptr<UdpListener>> udp;
		std::vector<std::unique_ptr<TcpListener>> tcp; ///< the first worker's only
	};

	/// Sockets bound to port 0 only to pick a port once (tests): a SO_REUSEPORT placeholder per
	/// address, so every worker's socket joins the same port and bound*Addresses() can report it.
	struct Placeholders
	{
		std::vector<Poco::Net::DatagramSocket> udp;
		std::vector<Poco::Net::ServerSocket> tcp;
	};

	void probe(const Poco::Net::SocketAddress& address);
	/// Binds a TCP socket once without SO_REUSEPORT: "in use" becomes an error; throws BindError.
	static void probeStream(const char* scheme, const Poco::Net::SocketAddress& address);
	/// A port-0 placeholder for a stream listener (tests), kept until start() ends; returns the bound address.
	static Poco::Net::SocketAddress reserveStream(const Poco::Net::SocketAddress& address, Placeholders& placeholders);
	/// First worker's tick: reloads the certificate when its files changed (logged).
	void watchCertificateFiles();
	/// The worker's DoT and DoH listeners (on its loop); throws BindError.
	void createEncryptedListeners(Worker& worker);
	/// Whether the workers need event loops (any stream listener).
	bool hasStreamListeners() const
	{
		return _settings.tcp || !_settings.tlsListen.empty() || !_settings.httpsListen.empty();
	}
	/// Fills _boundUdp and _boundTcp in `listen` order; throws BindError.
	Placeholders reservePorts();
	/// The worker's UDP listeners, and the first worker's TCP listeners; throws BindError.
	void createListeners(Worker& worker);
	/// Every worker's LoopConnections, in worker order.
	std::vector<LoopConnections*> targets() const;

	FrontendSettings _settings;
	QueryHandler& _handler;
	stats::FrontendStats& _stats;
	/// Answers buffered for all TCP clients (TcpLimits::maxTotalOutputBytes). Declared before the
	/// workers, whose connections hold a reference to it.
	std::unique_ptr<OutputBudget> _outputBudget;
	/// Slots of all client stream connections (maxTcpConnections); outlives the workers likewise.
	std::unique_ptr<ConnectionRegistry> _registry;
	std::vector<Worker> _workers;
	std::vector<Poco::Net::SocketAddress> _boundUdp;
	std::vector<Poco::Net::SocketAddress> _boundTcp;
	std::vector<Poco::Net::SocketAddress> _boundTls;
	std::vector<Poco::Net::SocketAddress> _boundHttps;
	std::shared_ptr<HandshakeRate> _handshakeRate;
	/// How often the first worker's tick looks at the certificate files (watchCertificateFiles).
	static constexpr std::chrono::milliseconds CERTIFICATE_CHECK_INTERVAL{2000};
	EventLoop::Clock::time_point _nextCertificateCheck; ///< first worker's loop thread only
	std::string _certificateError;                      ///< the last one logged; same thread
	bool _running = false;
};

} // namespace dnsproxy::frontend
