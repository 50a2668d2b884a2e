// FakeDotServer.cpp - scriptable DoT server: TLS accept, framed reads, scripted A answers.
#include "support/FakeDotServer.h"

#include "support/PacketBuilder.h"

#include <Poco/Exception.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>

#include <openssl/ssl.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace dnsproxy::test
{

namespace
{

using Clock = std::chrono::steady_clock;

constexpr auto HANDSHAKE_TIMEOUT = std::chrono::seconds(5);
constexpr auto WRITE_TIMEOUT = std::chrono::seconds(5);

/// The question of a query as the fake needs it: the dotted name (case kept) and where it ends.
struct Question
{
	std::string name;
	size_t end = 0; ///< offset just past QTYPE and QCLASS
};

/// Only uncompressed names (a query has nothing to point back to).
std::optional<Question> parseQuestion(const std::vector<uint8_t>& query)
{
	if (query.size() < 12 || ((query[4] << 8) | query[5]) == 0)
		return std::nullopt;
	Question question;
	size_t offset = 12;
	for (;;)
	{
		if (offset >= query.size())
			return std::nullopt;
		uint8_t length = query[offset++];
		if (length == 0)
			break;
		if ((length & 0xc0) != 0 || offset + length > query.size())
			return std::nullopt;
		if (!question.name.empty())
			question.name += '.';
		question.name.append(reinterpret_cast<const char*>(query.data() + offset), length);
		offset += length;
	}
	if (offset + 4 > query.size())
		return std::nullopt;
	question.end = offset + 4;
	return question;
}

/// ID, opcode, RD and question as received; QR, RA; one A 192.0.2.1 TTL 300 owned by the question name.
std::vector<uint8_t> makeAnswer(const std::vector<uint8_t>& query, const Question& question)
{
	std::vector<uint8_t> answer(query.begin(), query.begin() + static_cast<std::ptrdiff_t>(question.end));
	answer[2] = static_cast<uint8_t>(0x80 | (query[2] & 0x79)); // QR, opcode, RD (AA and TC clear)
	answer[3] = 0x80;                                           // RA, RCODE NOERROR
	const uint8_t counts[] = {0, 1, 0, 1, 0, 0, 0, 0};          // QD 1, AN 1, NS 0, AR 0
	std::copy(std::begin(counts), std::end(counts), answer.begin() + 4);
	const uint8_t record[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4, 192, 0, 2, 1};
	answer.insert(answer.end(), std::begin(record), std::end(record));
	return answer;
}

std::string lower(std::string text)
{
	std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
	return text;
}

int remainingMs(Clock::time_point deadline)
{
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
	return ms < 0 ? 0 : static_cast<int>(ms);
}

/// After a WANT_READ/WANT_WRITE (whose direction nonBlocking() cannot tell): wait up to 5 ms for
/// input or for stop. Waiting for POLLOUT too would spin, as the socket is nearly always writable;
/// the short cap covers the rare wait for buffer space on loopback.
void waitBriefly(int fd, int stopFd)
{
	pollfd fds[2] = {{fd, POLLIN, 0}, {stopFd, POLLIN, 0}};
	::poll(fds, 2, 5);
}

/// One call on a non-blocking SecureStreamSocket. POCO 1.11 keeps the socket's inner StreamSocketImpl
/// "blocking" after setBlocking(false), so SSL_ERROR_WANT_READ/WRITE surface as a TimeoutException
/// from a zero-length poll instead of ERR_SSL_WANT_*: map it back (DotConnection does the same).
template <typename Call> int nonBlocking(Call call)
{
	try
	{
		return call();
	}
	catch (const Poco::TimeoutException&)
	{
		return Poco::Net::SecureStreamSocket::ERR_SSL_WANT_READ;
	}
}

bool wantsMore(int rc)
{
	return rc == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_READ ||
		   rc == Poco::Net::SecureStreamSocket::ERR_SSL_WANT_WRITE;
}

FakeDotOptions withDefaults(FakeDotOptions options)
{
	const std::string certs = std::string(DNSPROXY_TEST_DATA) + "/certs/";
	if (options.certFile.empty())
		options.certFile = certs + "server.pem";
	if (options.keyFile.empty())
		options.keyFile = certs + "server.key";
	return options;
}

Poco::Net::Context::Ptr makeServerContext(const FakeDotOptions& options)
{
	Poco::Net::initializeSSL();
	Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options.keyFile,
															 options.certFile, "", Poco::Net::Context::VERIFY_NONE);
	SSL_CTX* ctx = context->sslContext();
	switch (options.tlsVersion)
	{
	case FakeDotOptions::TlsVersion::ANY:
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		break;
	case FakeDotOptions::TlsVersion::TLS12_ONLY:
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
		break;
	case FakeDotOptions::TlsVersion::TLS13_ONLY:
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
		break;
	}
	context->enableSessionCache(true, "dnsproxy-test");
	return context;
}

} // namespace

FakeDotServer::FakeDotServer(FakeDotOptions options):
	_options(withDefaults(std::move(options))),
	_context(makeServerContext(_options)),
	_listener(_context)
{
	_stopFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (_stopFd < 0)
		throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
	_listener.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true);
	_listener.listen(64);
	_address = _listener.address();
	_acceptThread = std::thread([this] { acceptLoop(); });
}

FakeDotServer::~FakeDotServer()
{
	stop();
	::close(_stopFd);
	Poco::Net::uninitializeSSL();
}

Poco::Net::SocketAddress FakeDotServer::address() const
{
	return _address;
}

std::vector<std::string> FakeDotServer::queriedNames() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _names;
}

void FakeDotServer::recordQuery(const std::string& name)
{
	std::lock_guard<std::mutex> lock(_mutex);
	_names.push_back(name);
}

void FakeDotServer::stop()
{
	if (_stopped.exchange(true))
		return;
	uint64_t one = 1;
	[[maybe_unused]] ssize_t n = ::write(_stopFd, &one, sizeof(one));
	if (_acceptThread.joinable())
		_acceptThread.join();
	// The accept thread has ended, so no thread is added any more.
	std::list<std::thread> threads;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		threads.swap(_connectionThreads);
	}
	for (auto& thread : threads)
		thread.join();
	_listener.close();
}

void FakeDotServer::acceptLoop()
{
	for (;;)
	{
		pollfd fds[2] = {{_listener.impl()->sockfd(), POLLIN, 0}, {_stopFd, POLLIN, 0}};
		int n = ::poll(fds, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (fds[1].revents & POLLIN))
			return;
		try
		{
			Poco::Net::StreamSocket socket = _listener.acceptConnection();
			++_connectionsNow;
			std::lock_guard<std::mutex> lock(_mutex);
			_connectionThreads.emplace_back([this, socket]() { serve(socket); });
		}
		catch (const Poco::Exception&)
		{
			// The client went away between poll and accept; nothing to serve.
		}
	}
}

void FakeDotServer::serve(Poco::Net::StreamSocket accepted)
{
	struct Scheduled
	{
		Clock::time_point due;
		uint64_t sequence;
		std::vector<uint8_t> frame;
	};

	Poco::Net::SecureStreamSocket socket(accepted);
	const int fd = socket.impl()->sockfd();
	std::vector<uint8_t> input;
	std::vector<uint8_t> output;
	std::vector<Scheduled> scheduled;
	uint64_t sequence = 0;
	uint32_t answered = 0;
	bool closing = false; // closeAfterAnswers reached: flush, then close

	// Writes `output` completely (non-blocking SSL, so WANT_WRITE/WANT_READ are waited out).
	auto flush = [&]() {
		auto deadline = Clock::now() + WRITE_TIMEOUT;
		size_t offset = 0;
		while (offset < output.size())
		{
			int n = nonBlocking(
				[&] { return socket.sendBytes(output.data() + offset, static_cast<int>(output.size() - offset)); });
			if (n > 0)
				offset += static_cast<size_t>(n);
			else if (wantsMore(n))
			{
				if (_stopped || Clock::now() >= deadline)
					return false;
				waitBriefly(fd, _stopFd);
			}
			else
				return false;
		}
		output.clear();
		return true;
	};

	try
	{
		socket.setBlocking(false);
		auto deadline = Clock::now() + HANDSHAKE_TIMEOUT;
		for (;;)
		{
			int rc = nonBlocking([&] { return socket.completeHandshake(); });
			if (rc == 1)
				break;
			if (!wantsMore(rc) || _stopped || Clock::now() >= deadline)
				throw Poco::TimeoutException("TLS handshake");
			waitBriefly(fd, _stopFd);
		}
		++_handshakes;
		if (socket.sessionWasReused())
			++_resumedSessions;
	}
	catch (const Poco::Exception&)
	{
		// A failed handshake is what the wrong-CA test provokes: the client aborts after our certificate.
		++_handshakeFailures;
		--_connectionsNow;
		return;
	}

	try
	{
		bool eof = false;
		while (!eof && !closing)
		{
			auto now = Clock::now();
			int timeoutMs = -1;
			for (const auto& entry : scheduled)
			{
				int ms = entry.due <= now ? 0 : remainingMs(entry.due) + 1;
				timeoutMs = timeoutMs < 0 ? ms : std::min(timeoutMs, ms);
			}
			pollfd fds[2] = {{fd, POLLIN, 0}, {_stopFd, POLLIN, 0}};
			int n = ::poll(fds, 2, timeoutMs);
			if (n < 0 && errno != EINTR)
				break;
			if (fds[1].revents & POLLIN)
				break;

			if (fds[0].revents != 0)
			{
				uint8_t buffer[16384];
				for (;;)
				{
					int received = nonBlocking([&] { return socket.receiveBytes(buffer, sizeof(buffer)); });
					if (received > 0)
					{
						input.insert(input.end(), buffer, buffer + received);
						uint64_t largest = _largestRead.load();
						while (static_cast<uint64_t>(received) > largest &&
							   !_largestRead.compare_exchange_weak(largest, static_cast<uint64_t>(received)))
						{
						}
					}
					else
					{
						eof = received == 0;
						break; // WANT_READ: all that TLS had is read
					}
				}
			}

			while (auto query = takeTcpFrame(input))
			{
				uint64_t index = _queriesReceived++;
				auto question = parseQuestion(*query);
				if (!question)
					continue;
				recordQuery(question->name);
				if (_options.answerOnlyFirst && index >= *_options.answerOnlyFirst)
					continue;
				std::vector<uint8_t> frame = tcpFramed(makeAnswer(*query, *question));
				auto delay = _options.delayMsByName.find(lower(question->name));
				auto due =
					Clock::now() + std::chrono::milliseconds(delay == _options.delayMsByName.end() ? 0 : delay->second);
				scheduled.push_back(Scheduled{due, sequence++, std::move(frame)});
			}

			// Answers that are due leave in due order (then arrival order); the rest wait.
			std::stable_sort(scheduled.begin(), scheduled.end(),
							 [](const Scheduled& a, const Scheduled& b) { return a.due < b.due; });
			now = Clock::now();
			size_t due = 0;
			while (due < scheduled.size() && scheduled[due].due <= now && !closing)
			{
				output.insert(output.end(), scheduled[due].frame.begin(), scheduled[due].frame.end());
				++due;
				++answered;
				closing = _options.closeAfterAnswers != 0 && answered >= _options.closeAfterAnswers;
			}
			scheduled.erase(scheduled.begin(), scheduled.begin() + static_cast<std::ptrdiff_t>(due));
			if (!output.empty())
			{
				if (!flush())
					break;
				_answersSent += due;
			}
		}
	}
	catch (const Poco::Exception&)
	{
		// Reset or broken TLS from the client's side: this connection is over, the server goes on.
	}
	try
	{
		socket.close(); // sends close_notify, so the client sees an orderly end
	}
	catch (const Poco::Exception&)
	{
		// The peer is already gone; the descriptor is released either way.
	}
	--_connectionsNow;
}

} // namespace dnsproxy::test
