// FakeDotServer.h - an in-process, scriptable DNS-over-TLS server on 127.0.0.1 for integration tests.
#pragma once

#include <Poco/Net/Context.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dnsproxy::test
{

/// How a FakeDotServer behaves. The defaults answer every query at once, on any TLS version.
struct FakeDotOptions
{
	enum class TlsVersion
	{
		ANY,        ///< TLS 1.2 or 1.3, whatever the client offers
		TLS12_ONLY, ///< TLS 1.2 is the only version offered
		TLS13_ONLY  ///< TLS 1.3 is the only version offered
	};

	TlsVersion tlsVersion = TlsVersion::ANY;
	std::string certFile; ///< PEM; empty means tests/data/certs/server.pem (dot.example, signed by ca.pem)
	std::string keyFile;  ///< PEM; empty means tests/data/certs/server.key
	/// Close each connection (TLS close_notify, then TCP close) right after its Nth answer; 0 = never.
	uint32_t closeAfterAnswers = 0;
	/// Read every query but answer only the first N the server receives (all connections together);
	/// unset = answer all, 0 = never answer.
	std::optional<uint32_t> answerOnlyFirst;
	/// Answer queries for these names (lower case, no trailing dot) only after the delay, while
	/// later queries on the same connection are answered at once: answers leave out of order.
	std::map<std::string, uint32_t> delayMsByName;
};

/// Listens on 127.0.0.1 with an ephemeral port (Poco::Net::SecureServerSocket, a server Context
/// with the test certificate and a session cache "dnsproxy-test"). Reads 2-byte-framed queries
/// (RFC 7858 section 3.3) and answers each with one A record 192.0.2.1, TTL 300: the ID, opcode,
/// RD bit and question are echoed exactly as received, QR and RA are set, RCODE is NOERROR.
/// It never inspects the question type: a fake, not a resolver.
///
/// Threading: one accept thread plus one thread per accepted connection, which does the handshake,
/// reads, and writes (and so is the only user of that connection's SSL object). All of them wait
/// in poll() together with an eventfd that stop() signals. Counters are atomics that any thread
/// may read; queriedNames() takes a mutex. The destructor calls stop(), which closes every
/// connection and joins every thread.
class FakeDotServer
{
public:
	explicit FakeDotServer(FakeDotOptions options = {});
	~FakeDotServer();
	FakeDotServer(const FakeDotServer&) = delete;
	FakeDotServer& operator=(const FakeDotServer&) = delete;

	/// 127.0.0.1 and the port the kernel chose.
	Poco::Net::SocketAddress address() const;

	/// TLS handshakes that completed.
	uint64_t handshakes() const
	{
		return _handshakes.load();
	}
	/// Handshakes that failed (e.g. the client rejected our certificate).
	uint64_t handshakeFailures() const
	{
		return _handshakeFailures.load();
	}
	/// Completed handshakes that resumed an earlier session (SSL_session_reused on our side).
	uint64_t resumedSessions() const
	{
		return _resumedSessions.load();
	}
	/// TCP connections accepted and not yet closed.
	uint64_t connectionsNow() const
	{
		return _connectionsNow.load();
	}
	uint64_t queriesReceived() const
	{
		return _queriesReceived.load();
	}
	uint64_t answersSent() const
	{
		return _answersSent.load();
	}
	/// Most plaintext bytes one TLS read returned. A read returns at most one TLS record, so this
	/// shows whether a client puts several messages into one record.
	uint64_t largestRead() const
	{
		return _largestRead.load();
	}
	/// Every question name received so far, as sent on the wire (letter case kept), dotted.
	std::vector<std::string> queriedNames() const;

	/// Idempotent: closes the listener and every connection, joins every thread.
	void stop();

private:
	void acceptLoop();
	void serve(Poco::Net::StreamSocket socket);
	void recordQuery(const std::string& name);

	FakeDotOptions _options;
	Poco::Net::Context::Ptr _context;
	Poco::Net::SecureServerSocket _listener;
	Poco::Net::SocketAddress _address;
	int _stopFd = -1;
	std::atomic<bool> _stopped{false};

	std::atomic<uint64_t> _handshakes{0};
	std::atomic<uint64_t> _handshakeFailures{0};
	std::atomic<uint64_t> _resumedSessions{0};
	std::atomic<uint64_t> _connectionsNow{0};
	std::atomic<uint64_t> _queriesReceived{0};
	std::atomic<uint64_t> _answersSent{0};
	std::atomic<uint64_t> _largestRead{0};

	mutable std::mutex _mutex; ///< guards _names and _connectionThreads
	std::vector<std::string> _names;
	std::list<std::thread> _connectionThreads;
	std::thread _acceptThread;
};

} // namespace dnsproxy::test
