// Http1Session.h - DoH over HTTP/1.1 (RFC 9112): keep-alive, pipelining, responses in request order.
#pragma once

#include "frontend/doh/DohSession.h"

#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace dnsproxy::frontend::doh
{

/// Parses one complete header block at a time with Poco::Net::HTTPRequest::read (a block is the
/// bytes up to the first empty line; LF-only line ends are accepted, RFC 9112 2.2). Each parsed
/// request takes a slot; responses leave in slot order even when answers come out of order.
///
/// Connection handling: HTTP/1.1 keeps the connection unless the request says `Connection:
/// close`; HTTP/1.0 closes unless it says `keep-alive`. After a closing request nothing more is
/// parsed, and wantsClose() turns true once its response has been taken. Errors that leave the
/// byte stream unusable answer and close: a malformed head or a version other than 1.0/1.1
/// (400), a head over maxHeaderBytes (431), a POST without Content-Length (411), a
/// Transfer-Encoding (501: chunked bodies are not supported, so no length can be wrong),
/// conflicting Content-Length values (400), a body over maxRequestBytes (413, by
/// Content-Length, before the body is read). Other errors (404, 405, 415, 400 for ?dns=) keep the
/// connection: a body, if any, is read and dropped. `Expect: 100-continue` is not answered; the
/// body is simply read (clients send it after a short wait).
///
/// feed() returns false only when the closing error response is the next thing to send (nothing
/// earlier is waiting); otherwise the owner sees wantsClose() after the earlier responses.
/// Input is capped at maxHeaderBytes + maxRequestBytes + INPUT_SLACK buffered octets: past it
/// (an owner that ignored mayFeed()) feed() fails without a response.
///
/// Threading: one thread, like DohSession.
class Http1Session: public DohSession
{
public:
	/// Octets of input accepted beyond one largest request while parsing is paused.
	static constexpr size_t INPUT_SLACK = 65536;

	Http1Session(const DohSettings& settings, DohHandler& handler);

	bool feed(const uint8_t* data, size_t length) override;
	void answer(RequestId id, const uint8_t* dns, size_t length) override;
	void fail(RequestId id, int status) override;
	void takeOutput(std::vector<uint8_t>& out) override;
	void closeGracefully() override;
	bool wantsClose() const override;
	size_t openRequests() const override;
	bool mayFeed() const override;

private:
	/// One parsed request, in arrival order.
	struct Slot
	{
		RequestId id = 0;
		bool dispatched = false;      // handed to onQuery, waiting for answer()/fail()
		bool ready = false;           // `response` holds the full response
		bool close = false;           // the connection closes after this response
		bool keepAliveHeader = false; // HTTP/1.0 keep-alive: say so in the response
		std::string response;
	};
	/// A request head parsed while its body is still arriving.
	struct Head
	{
		size_t headerLength = 0;
		size_t contentLength = 0;
		bool close = false;
		bool keepAliveHeader = false;
		std::string method, target, contentType;
	};

	bool pump();
	bool parseOne();
	size_t headerEnd();
	std::optional<Head> parseHead(size_t headerLength);
	/// 413 for a body over maxRequestBytes: up to MAX_DISCARDED_BYTES it is dropped as it comes
	/// and the connection goes on, beyond it the connection closes.
	void answerTooLarge(size_t contentLength, bool keepAlive, size_t headerLength);
	void finishRequest(const Head& head, std::vector<uint8_t>&& body);
	void closeWithError(int status);
	Slot& addSlot(bool close, bool keepAliveHeader);
	void complete(Slot& slot, int status, const uint8_t* dns, size_t length);
	Slot* find(RequestId id);

	const DohSettings _settings;
	DohHandler& _handler;
	std::vector<uint8_t> _in;
	std::deque<Slot> _slots;
	std::optional<Head> _head;
	RequestId _nextId = 1;
	size_t _open = 0;
	bool _stopParsing = false; // a closing request was parsed, closeGracefully(), or an error
	bool _overflow = false;
	bool _errorClose = false; // the last slot is an error that closes the connection
	size_t _discardLeft = 0;  // body bytes of a request answered 413 still to drop
	size_t _scanFrom = 0;     // where headerEnd() resumes
	bool _pumping = false;
};

} // namespace dnsproxy::frontend::doh
