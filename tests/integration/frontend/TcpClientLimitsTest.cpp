// TcpClientLimitsTest.cpp - client TCP limits of the real front end on loopback: slowloris and stalled
// frames closed by the idle timeout, non-readers closed, zero-length frames, max_tcp_connections.
#include "frontend/Frontend.h"

#include "dns/Header.h"
#include "support/WaitFor.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

using namespace dnsproxy;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace
{

/// Answers every query with `answerSize` octets (the query's ID, QR set), or holds the responder
/// and never answers when `answerSize` is 0, so the connection stays busy. With `atOnce`, answers
/// come straight from handleRaw() like cache hits.
class TestHandler: public frontend::QueryHandler
{
public:
	explicit TestHandler(size_t answerSize, bool atOnce = false):
		_answerSize(answerSize),
		_atOnce(atOnce)
	{
	}

	bool handleRaw(const frontend::RawQuery& query, std::vector<uint8_t>& answer,
				   frontend::ResponderFactory& later) override
	{
		++_handled;
		if (!_atOnce || _answerSize == 0)
			return QueryHandler::handleRaw(query, answer, later);
		answer = answerOfSize(query.data, query.length);
		return true;
	}

	size_t handled() const
	{
		return _handled.load();
	}

	/// Answers every held query with `size` octets.
	void respondAll(size_t size)
	{
		std::lock_guard<std::mutex> lock(_mutex);
		for (auto& responder : _held)
			responder->respond(std::vector<uint8_t>(size, 0));
		_held.clear();
	}

	void handleQuery(std::vector<uint8_t>&& query, const frontend::ClientInfo&,
					 std::shared_ptr<frontend::Responder> responder) override
	{
		if (_answerSize == 0)
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_held.push_back(std::move(responder));
			return;
		}
		responder->respond(answerOfSize(query.data(), query.size()));
	}

	/// Like [server] allow = 127.0.0.1/32.
	bool admits(const sockaddr* peer) const override
	{
		return peer->sa_family == AF_INET &&
			   reinterpret_cast<const sockaddr_in*>(peer)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
	}

	size_t held()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		return _held.size();
	}

	void releaseAll()
	{
		std::lock_guard<std::mutex> lock(_mutex);
		for (auto& responder : _held)
			responder->drop();
		_held.clear();
	}

private:
	/// `_answerSize` octets: the query's header with QR set, then zeros.
	std::vector<uint8_t> answerOfSize(const uint8_t* query, size_t length) const
	{
		std::vector<uint8_t> answer(_answerSize, 0);
		std::copy(query, query + std::min(dns::HEADER_SIZE, length), answer.begin());
		answer[2] |= static_cast<uint8_t>(dns::Header::QR >> 8);
		return answer;
	}

	size_t _answerSize;
	bool _atOnce;
	std::atomic<size_t> _handled{0};
	std::mutex _mutex;
	std::vector<std::shared_ptr<frontend::Responder>> _held;
};

std::vector<uint8_t> framedQuery(uint16_t id)
{
	std::vector<uint8_t> q = {0,
							  30,
							  static_cast<uint8_t>(id >> 8),
							  static_cast<uint8_t>(id),
							  1,
							  0,
							  0,
							  1,
							  0,
							  0,
							  0,
							  0,
							  0,
							  0,
							  4,
							  't',
							  'e',
							  's',
							  't',
							  7,
							  'e',
							  'x',
							  'a',
							  'm',
							  'p',
							  'l',
							  'e',
							  0,
							  0,
							  1,
							  0};
	q.push_back(1);
	return q;
}

/// True once the peer has closed (EOF or reset), false if `timeout` passes first. Reads and
/// discards whatever else arrives.
bool closedWithin(Poco::Net::StreamSocket& socket, std::chrono::milliseconds timeout)
{
	auto deadline = Clock::now() + timeout;
	uint8_t buffer[65536];
	while (Clock::now() < deadline)
	{
		if (!socket.poll(Poco::Timespan(0, 20000), Poco::Net::Socket::SELECT_READ))
			continue;
		try
		{
			if (socket.receiveBytes(buffer, sizeof(buffer)) <= 0)
				return true;
		}
		catch (const Poco::Exception&)
		{
			return true;
		}
	}
	return false;
}

} // namespace

class TcpClientLimitsTest: public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(TcpClientLimitsTest);
	CPPUNIT_TEST(testSlowlorisClosedByIdleTimeout);
	CPPUNIT_TEST(testCompleteQueriesKeepConnectionOpen);
	CPPUNIT_TEST(testZeroLengthFrameClosesOnlyThatConnection);
	CPPUNIT_TEST(testClientThatNeverReadsIsClosed);
	CPPUNIT_TEST(testFullClosesIdlestForNewConnection);
	CPPUNIT_TEST(testFullWithBusyConnectionsRefusesNew);
	CPPUNIT_TEST(testSourceOutsideAllowClosedAtAcceptWithoutTakingRoom);
	CPPUNIT_TEST(testNonReaderStopsTakingQueriesAtOutputLimit);
	CPPUNIT_TEST(testReaderServedWhileNonReaderHoldsBudget);
	CPPUNIT_TEST(testLateAnswersOverLimitWithBudgetExhaustedClose);
	CPPUNIT_TEST_SUITE_END();

public:
	void setUp() override
	{
		_settings = frontend::FrontendSettings();
		_settings.listen = {Poco::Net::SocketAddress("127.0.0.1", 0)};
		_settings.udp = false;
		_settings.tcpLimits.idleTimeoutMs = 300;
	}

	void tearDown() override
	{
		if (_handler)
			_handler->releaseAll();
		if (_frontend)
			_frontend->stop();
		_frontend.reset();
		_handler.reset();
	}

	void testSlowlorisClosedByIdleTimeout()
	{
		start(64);
		Poco::Net::StreamSocket client(address());
		const uint8_t prefix = 0x01; // a 256+ octet frame that never completes
		const auto opened = Clock::now();
		bool closed = false;
		// One octet every 50 ms: before the fix every octet counted as activity and this stayed open.
		while (!closed && Clock::now() - opened < 3s)
		{
			try
			{
				client.sendBytes(&prefix, 1);
			}
			catch (const Poco::Exception&)
			{
				closed = true;
				break;
			}
			closed = closedWithin(client, 50ms);
		}
		const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - opened);
		CPPUNIT_ASSERT_MESSAGE("slowloris connection still open after 3 s", closed);
		CPPUNIT_ASSERT(after >= 250ms);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), _stats.tcpIdleClosed.load());
	}

	void testCompleteQueriesKeepConnectionOpen()
	{
		start(64);
		Poco::Net::StreamSocket client(address());
		for (uint16_t i = 0; i < 8; ++i)
		{
			auto query = framedQuery(i);
			client.sendBytes(query.data(), static_cast<int>(query.size()));
			uint8_t answer[66];
			CPPUNIT_ASSERT_EQUAL(66, readExactly(client, answer, sizeof(answer)));
			CPPUNIT_ASSERT_EQUAL(uint8_t(i), answer[3]);
			CPPUNIT_ASSERT(!closedWithin(client, 100ms));
		}
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), _stats.tcpIdleClosed.load());
	}

	void testZeroLengthFrameClosesOnlyThatConnection()
	{
		start(64);
		Poco::Net::StreamSocket bad(address());
		Poco::Net::StreamSocket good(address());
		const uint8_t zero[2] = {0, 0};
		bad.sendBytes(zero, 2);
		CPPUNIT_ASSERT(closedWithin(bad, 1000ms));
		auto query = framedQuery(7);
		good.sendBytes(query.data(), static_cast<int>(query.size()));
		uint8_t answer[66];
		CPPUNIT_ASSERT_EQUAL(66, readExactly(good, answer, sizeof(answer)));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), _stats.malformed.load());
	}

	void testClientThatNeverReadsIsClosed()
	{
		_settings.tcpLimits.maxOutputBytes = 64 * 1024;
		start(16000);
		Poco::Net::StreamSocket client(Poco::Net::SocketAddress::IPv4);
		client.setReceiveBufferSize(4096); // before connect, so the window stays small
		client.connect(address());
		client.setBlocking(false);
		std::vector<uint8_t> queries;
		for (uint16_t i = 0; i < 600; ++i)
		{
			auto query = framedQuery(i);
			queries.insert(queries.end(), query.begin(), query.end());
		}
		size_t sent = 0;
		const auto opened = Clock::now();
		bool closed = false;
		while (Clock::now() - opened < 5s && !closed)
		{
			if (sent < queries.size())
			{
				int n = ::send(client.impl()->sockfd(), queries.data() + sent, queries.size() - sent,
							   MSG_DONTWAIT | MSG_NOSIGNAL);
				if (n > 0)
					sent += static_cast<size_t>(n);
				else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
					closed = true;
			}
			// Never read: the proxy's closing shows as its counter, the client cannot see the FIN
			// behind the answers it does not read.
			if (_stats.tcpConnectionsNow.load() == 0 && _stats.tcpConnectionsAccepted.load() == 1)
				closed = true;
			std::this_thread::sleep_for(10ms);
		}
		CPPUNIT_ASSERT_MESSAGE("a client that never reads was kept open", closed);
	}

	void testFullClosesIdlestForNewConnection()
	{
		_settings.maxTcpConnections = 2;
		_settings.threads = 3; // each connection on its own loop: the idlest is found across loops
		_settings.tcpLimits.idleTimeoutMs = 60000;
		start(64);
		Poco::Net::StreamSocket first(address());
		CPPUNIT_ASSERT(test::waitFor([&] { return _stats.tcpConnectionsNow.load() == 1; }));
		Poco::Net::StreamSocket second(address());
		CPPUNIT_ASSERT(test::waitFor([&] { return _stats.tcpConnectionsNow.load() == 2; }));
		Poco::Net::StreamSocket third(address());
		auto query = framedQuery(3);
		third.sendBytes(query.data(), static_cast<int>(query.size()));
		uint8_t answer[66];
		CPPUNIT_ASSERT_EQUAL(66, readExactly(third, answer, sizeof(answer)));
		CPPUNIT_ASSERT(closedWithin(first, 1000ms));
		CPPUNIT_ASSERT(!closedWithin(second, 100ms));
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), _stats.tcpConnectionsRefused.load());
	}

	void testFullWithBusyConnectionsRefusesNew()
	{
		_settings.maxTcpConnections = 2;
		// Busy connections on other loops than the newcomer's.
		_settings.threads = 3;
		start(0); // queries are never answered: both connections stay busy
		Poco::Net::StreamSocket first(address());
		Poco::Net::StreamSocket second(address());
		auto query = framedQuery(1);
		first.sendBytes(query.data(), static_cast<int>(query.size()));
		second.sendBytes(query.data(), static_cast<int>(query.size()));
		CPPUNIT_ASSERT(test::waitFor([&] { return _handler->held() == 2; }));
		Poco::Net::StreamSocket third(address());
		CPPUNIT_ASSERT(closedWithin(third, 1000ms));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), _stats.tcpConnectionsRefused.load());
		CPPUNIT_ASSERT(!closedWithin(first, 100ms));
		CPPUNIT_ASSERT(!closedWithin(second, 100ms));
	}

	void testSourceOutsideAllowClosedAtAcceptWithoutTakingRoom()
	{
		_settings.maxTcpConnections = 2;
		_settings.tcpLimits.idleTimeoutMs = 60000;
		start(64);
		Poco::Net::StreamSocket first(address());
		Poco::Net::StreamSocket second(address());
		CPPUNIT_ASSERT(test::waitFor([&] { return _stats.tcpConnectionsNow.load() == 2; }));
		// Full with idle allowed connections: before the fix the outsider closed the idlest of them.
		Poco::Net::StreamSocket outsider(Poco::Net::SocketAddress::IPv4);
		outsider.impl()->bind(Poco::Net::SocketAddress("127.0.0.2", 0), false);
		try
		{
			outsider.connect(address());
		}
		catch (const Poco::Exception&)
		{
			// reset before connect() returned: closed at accept all the same
		}
		CPPUNIT_ASSERT(closedWithin(outsider, 1000ms));
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), _stats.refusedByAcl.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), _stats.tcpConnectionsRefused.load());
		CPPUNIT_ASSERT_EQUAL(uint64_t(0), _stats.tcpIdleClosed.load());
		CPPUNIT_ASSERT(!closedWithin(first, 100ms));
		CPPUNIT_ASSERT(!closedWithin(second, 100ms));
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), _stats.tcpConnectionsNow.load());
	}

	void testNonReaderStopsTakingQueriesAtOutputLimit()
	{
		// 200 queries for 60,000-octet answers in one write, never read. Before the fix all 200
		// were answered into the buffer at once (12 MB) and the connection closed past 4 x limit.
		_settings.tcpLimits.maxOutputBytes = 256 * 1024;
		_settings.tcpLimits.idleTimeoutMs = 60000;
		start(60000, true);
		auto client = nonReader();
		sendQueries(client, 200);
		const size_t handled = handledOnceBuffered(256 * 1024);
		CPPUNIT_ASSERT_MESSAGE("every query was taken", handled < 200);
		CPPUNIT_ASSERT(_frontend->bufferedTcpOutput() <= 256 * 1024 + 60002);
		CPPUNIT_ASSERT_EQUAL(uint64_t(1), _stats.tcpConnectionsNow.load());
	}

	void testReaderServedWhileNonReaderHoldsBudget()
	{
		_settings.tcpLimits.maxOutputBytes = 512 * 1024;
		_settings.tcpLimits.maxTotalOutputBytes = 128 * 1024;
		_settings.tcpLimits.idleTimeoutMs = 60000;
		start(60000, true);
		auto hog = nonReader();
		sendQueries(hog, 200);
		const size_t handled = handledOnceBuffered(128 * 1024); // the budget is exhausted
		CPPUNIT_ASSERT(handled < 200);
		// A client that reads is served one answer at a time all the same.
		Poco::Net::StreamSocket reader(address());
		sendQueries(reader, 5);
		std::vector<uint8_t> answers(5 * 60002);
		CPPUNIT_ASSERT_EQUAL(int(answers.size()), readExactly(reader, answers.data(), answers.size()));
		// The budget bounds the total up to one answer more per connection.
		CPPUNIT_ASSERT(_frontend->bufferedTcpOutput() <= 128 * 1024 + 2 * 60002);
		CPPUNIT_ASSERT_EQUAL(uint64_t(2), _stats.tcpConnectionsNow.load());
	}

	void testLateAnswersOverLimitWithBudgetExhaustedClose()
	{
		// Queries taken while there was room, answered later (upstream answers): the connection
		// holds more than its limit while the process budget is exhausted, so it is closed and its
		// bytes are given back.
		_settings.tcpLimits.maxOutputBytes = 64 * 1024;
		_settings.tcpLimits.maxTotalOutputBytes = 128 * 1024;
		_settings.tcpLimits.idleTimeoutMs = 60000;
		start(0);
		auto client = nonReader();
		sendQueries(client, 64);
		CPPUNIT_ASSERT(test::waitFor([&] { return _handler->held() == 64; }));
		_handler->respondAll(60000);
		CPPUNIT_ASSERT(test::waitFor([&] { return _stats.tcpConnectionsNow.load() == 0; }));
		CPPUNIT_ASSERT_EQUAL(size_t(0), _frontend->bufferedTcpOutput());
	}

private:
	/// A connected client with a 4 KiB receive buffer that the test never reads.
	Poco::Net::StreamSocket nonReader()
	{
		Poco::Net::StreamSocket client(Poco::Net::SocketAddress::IPv4);
		client.setReceiveBufferSize(4096); // before connect, so the window stays small
		client.connect(address());
		CPPUNIT_ASSERT(test::waitFor([&] { return _stats.tcpConnectionsAccepted.load() >= 1; }));
		return client;
	}

	static void sendQueries(Poco::Net::StreamSocket& client, uint16_t count)
	{
		std::vector<uint8_t> queries;
		for (uint16_t i = 0; i < count; ++i)
		{
			auto query = framedQuery(i);
			queries.insert(queries.end(), query.begin(), query.end());
		}
		client.sendBytes(queries.data(), static_cast<int>(queries.size()));
	}

	/// Waits until the answers buffered for clients reach `bytes` (the kernel's socket buffers are
	/// full and the proxy holds the rest), then returns how many queries were taken.
	size_t handledOnceBuffered(size_t bytes)
	{
		CPPUNIT_ASSERT(test::waitFor([&] { return _frontend->bufferedTcpOutput() >= bytes; }));
		return _handler->handled();
	}

	void start(size_t answerSize, bool atOnce = false)
	{
		_handler = std::make_unique<TestHandler>(answerSize, atOnce);
		_frontend = std::make_unique<frontend::Frontend>(_settings, *_handler, _stats);
		_frontend->start();
	}

	Poco::Net::SocketAddress address() const
	{
		return _frontend->boundTcpAddresses().front();
	}

	static int readExactly(Poco::Net::StreamSocket& socket, uint8_t* buffer, size_t length)
	{
		size_t got = 0;
		socket.setReceiveTimeout(Poco::Timespan(2, 0));
		while (got < length)
		{
			int n = socket.receiveBytes(buffer + got, static_cast<int>(length - got));
			if (n <= 0)
				break;
			got += static_cast<size_t>(n);
		}
		return static_cast<int>(got);
	}

	frontend::FrontendSettings _settings;
	stats::FrontendStats _stats;
	std::unique_ptr<TestHandler> _handler;
	std::unique_ptr<frontend::Frontend> _frontend;
};

CPPUNIT_TEST_SUITE_NAMED_REGISTRATION(TcpClientLimitsTest, "frontend");
CPPUNIT_REGISTRY_ADD("frontend", "integration");
