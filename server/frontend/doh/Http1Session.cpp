// Http1Session.cpp - DoH over HTTP/1.1 (RFC 9112): keep-alive, pipelining, responses in request order.
#include "frontend/doh/Http1Session.h"

#include "frontend/doh/DohRequest.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPMessage.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/String.h>

#include <sstream>

namespace dnsproxy::frontend::doh
{

namespace
{

/// A Content-Length value: digits only (RFC 9110 8.6), nullopt otherwise or when absurdly long.
std::optional<size_t> parseLength(const std::string& text)
{
	if (text.empty() || text.size() > 15)
		return std::nullopt;
	size_t value = 0;
	for (const char c : text)
	{
		if (c < '0' || c > '9')
			return std::nullopt;
		value = value * 10 + static_cast<size_t>(c - '0');
	}
	return value;
}

/// A request body larger than maxRequestBytes but at most this is read and dropped after its 413;
/// a larger one closes the connection after the 413.
constexpr size_t MAX_DISCARDED_BYTES = 1 << 20;

} // namespace

std::unique_ptr<DohSession> DohSession::http1(const DohSettings& settings, DohHandler& handler)
{
	return std::make_unique<Http1Session>(settings, handler);
}

Http1Session::Http1Session(const DohSettings& settings, DohHandler& handler):
	_settings(settings),
	_handler(handler)
{
}

bool Http1Session::feed(const uint8_t* data, size_t length)
{
	if (_stopParsing)
		return !_overflow; // nothing after a closing request is read
	if (_in.size() + length > _settings.maxHeaderBytes + _settings.maxRequestBytes + INPUT_SLACK)
	{
		_overflow = _stopParsing = true;
		_slots.clear();
		return false;
	}
	_in.insert(_in.end(), data, data + length);
	pump();
	if (!_errorClose)
		return true;
	for (const Slot& slot : _slots)
	{
		if (!slot.ready)
			return true; // earlier answers first; wantsClose() after them
	}
	return false;
}

void Http1Session::answer(RequestId id, const uint8_t* dns, size_t length)
{
	if (Slot* slot = find(id))
		complete(*slot, HTTP_OK, dns, length);
}

void Http1Session::fail(RequestId id, int status)
{
	if (Slot* slot = find(id))
		complete(*slot, status, nullptr, 0);
}

void Http1Session::takeOutput(std::vector<uint8_t>& out)
{
	do
	{
		while (!_slots.empty() && _slots.front().ready)
		{
			const std::string& response = _slots.front().response;
			out.insert(out.end(), response.begin(), response.end());
			_slots.pop_front();
		}
	} while (pump()); // room was made: requests waiting in the input may be parsed now
}

void Http1Session::closeGracefully()
{
	_stopParsing = true;
	if (!_slots.empty() && !_slots.back().ready)
		_slots.back().close = true;
}

bool Http1Session::wantsClose() const
{
	return _overflow || (_stopParsing && _slots.empty());
}

size_t Http1Session::openRequests() const
{
	return _open;
}

bool Http1Session::mayFeed() const
{
	return !_stopParsing && _slots.size() < _settings.maxStreams;
}

bool Http1Session::pump()
{
	if (_pumping)
		return false; // onQuery answered at once and the owner took output from inside it
	_pumping = true;
	bool progress = false;
	while (!_stopParsing && _slots.size() < _settings.maxStreams && parseOne())
		progress = true;
	_pumping = false;
	return progress;
}

size_t Http1Session::headerEnd()
{
	// The head ends with an empty line: "\n\n" or "\n\r\n" (RFC 9112 2.2 tolerates bare LF).
	for (size_t i = _scanFrom; i < _in.size(); ++i)
	{
		if (_in[i] != '\n')
			continue;
		if (i + 1 < _in.size() && _in[i + 1] == '\n')
			return i + 2;
		if (i + 2 < _in.size() && _in[i + 1] == '\r' && _in[i + 2] == '\n')
			return i + 3;
	}
	_scanFrom = _in.size() < 2 ? 0 : _in.size() - 2; // a terminator split over two feeds is found next time
	return 0;
}

bool Http1Session::parseOne()
{
	if (_discardLeft > 0)
	{
		// The body of a request answered 413 from its head: dropped as it arrives.
		const size_t n = std::min(_discardLeft, _in.size());
		_in.erase(_in.begin(), _in.begin() + static_cast<std::ptrdiff_t>(n));
		_discardLeft -= n;
		_scanFrom = 0;
		if (_discardLeft > 0)
			return false;
	}
	if (!_head)
	{
		// RFC 9112 2.2: empty lines before a request line are ignored.
		size_t skip = 0;
		while (skip < _in.size() && (_in[skip] == '\r' || _in[skip] == '\n'))
			++skip;
		_in.erase(_in.begin(), _in.begin() + static_cast<std::ptrdiff_t>(skip));
		_scanFrom = _scanFrom > skip ? _scanFrom - skip : 0;
		const size_t end = headerEnd();
		if (end == 0 || end > _settings.maxHeaderBytes)
		{
			if (end == 0 && _in.size() <= _settings.maxHeaderBytes)
				return false; // wait for the rest of the head
			closeWithError(HTTP_HEADERS_TOO_LARGE);
			return true;
		}
		_head = parseHead(end);
		if (!_head)
			return true; // answered with an error: closing, or dropping the body (_discardLeft)
	}
	const size_t total = _head->headerLength + _head->contentLength;
	if (_in.size() < total)
		return false;
	std::vector<uint8_t> body(_in.begin() + static_cast<std::ptrdiff_t>(_head->headerLength),
							  _in.begin() + static_cast<std::ptrdiff_t>(total));
	_in.erase(_in.begin(), _in.begin() + static_cast<std::ptrdiff_t>(total));
	_scanFrom = 0;
	const Head head = std::move(*_head);
	_head.reset();
	finishRequest(head, std::move(body));
	return true;
}

std::optional<Http1Session::Head> Http1Session::parseHead(size_t headerLength)
{
	std::istringstream stream(std::string(_in.begin(), _in.begin() + static_cast<std::ptrdiff_t>(headerLength)));
	Poco::Net::HTTPRequest request;
	try
	{
		request.read(stream);
	}
	catch (const Poco::Exception&)
	{
		closeWithError(HTTP_BAD_REQUEST); // POCO's limits: method, URI, field count and sizes
		return std::nullopt;
	}
	const std::string& version = request.getVersion();
	if (version != Poco::Net::HTTPMessage::HTTP_1_1 && version != Poco::Net::HTTPMessage::HTTP_1_0)
	{
		closeWithError(HTTP_BAD_REQUEST); // POCO does not check the version token
		return std::nullopt;
	}
	if (request.has("Transfer-Encoding"))
	{
		closeWithError(HTTP_NOT_IMPLEMENTED);
		return std::nullopt;
	}
	std::optional<size_t> contentLength;
	for (const auto& [name, value] : request)
	{
		if (Poco::icompare(name, "Content-Length") != 0)
			continue;
		const auto length = parseLength(value);
		if (!length || (contentLength && *contentLength != *length))
		{
			closeWithError(HTTP_BAD_REQUEST); // RFC 9112 6.3: the message length is unknowable
			return std::nullopt;
		}
		contentLength = length;
	}
	if (!contentLength && request.getMethod() == "POST")
	{
		closeWithError(HTTP_LENGTH_REQUIRED);
		return std::nullopt;
	}
	if (contentLength && *contentLength > _settings.maxRequestBytes)
	{
		answerTooLarge(*contentLength, request.getKeepAlive(), headerLength);
		return std::nullopt;
	}
	Head head;
	head.headerLength = headerLength;
	head.contentLength = contentLength.value_or(0);
	head.close = !request.getKeepAlive();
	head.keepAliveHeader = !head.close && version == Poco::Net::HTTPMessage::HTTP_1_0;
	head.method = request.getMethod();
	head.target = request.getURI();
	head.contentType = request.get("Content-Type", "");
	return head;
}

void Http1Session::answerTooLarge(size_t contentLength, bool keepAlive, size_t headerLength)
{
	if (contentLength > MAX_DISCARDED_BYTES)
	{
		closeWithError(HTTP_PAYLOAD_TOO_LARGE); // not worth reading: the stream is lost
		return;
	}
	// Answered now; the body is read and dropped, so that the client, still sending it, is not
	// reset before it reads the answer, and the connection goes on.
	complete(addSlot(!keepAlive, false), HTTP_PAYLOAD_TOO_LARGE, nullptr, 0);
	_in.erase(_in.begin(), _in.begin() + static_cast<std::ptrdiff_t>(headerLength));
	_scanFrom = 0;
	_discardLeft = contentLength;
}

void Http1Session::finishRequest(const Head& head, std::vector<uint8_t>&& body)
{
	HeadVerdict verdict = checkHead(_settings, head.method, head.target, head.contentType);
	int status = verdict.status;
	if (status == 0 && verdict.expectsBody)
		status = checkBodyLength(_settings, body.size());
	Slot& slot = addSlot(head.close, head.keepAliveHeader);
	if (status != 0)
	{
		complete(slot, status, nullptr, 0);
		return;
	}
	slot.dispatched = true;
	++_open;
	// onQuery may answer at once; deque references survive push_back, but `slot` is not used after.
	_handler.onQuery(slot.id, verdict.expectsBody ? std::move(body) : std::move(verdict.query));
}

void Http1Session::closeWithError(int status)
{
	_errorClose = true;
	complete(addSlot(true, false), status, nullptr, 0);
}

Http1Session::Slot& Http1Session::addSlot(bool close, bool keepAliveHeader)
{
	Slot slot;
	slot.id = _nextId++;
	slot.close = close;
	slot.keepAliveHeader = keepAliveHeader;
	_slots.push_back(std::move(slot));
	if (close)
		_stopParsing = true;
	return _slots.back();
}

void Http1Session::complete(Slot& slot, int status, const uint8_t* dns, size_t length)
{
	countStatus(status);
	std::string& r = slot.response;
	r = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
	if (status == HTTP_OK)
	{
		r += std::string("Content-Type: ") + DNS_MESSAGE_TYPE + "\r\n";
		r += "Cache-Control: max-age=" + std::to_string(cacheMaxAge(dns, length)) + "\r\n";
	}
	if (status == HTTP_METHOD_NOT_ALLOWED)
		r += std::string("Allow: ") + ALLOWED_METHODS + "\r\n";
	r += "Content-Length: " + std::to_string(length) + "\r\n";
	if (slot.close)
		r += "Connection: close\r\n";
	else if (slot.keepAliveHeader)
		r += "Connection: keep-alive\r\n";
	r += "\r\n";
	if (length > 0)
		r.append(reinterpret_cast<const char*>(dns), length);
	slot.ready = true;
	if (slot.dispatched)
	{
		slot.dispatched = false;
		--_open;
	}
}

Http1Session::Slot* Http1Session::find(RequestId id)
{
	if (_slots.empty() || id < _slots.front().id || id - _slots.front().id >= _slots.size())
		return nullptr;
	Slot& slot = _slots[static_cast<size_t>(id - _slots.front().id)];
	return slot.dispatched ? &slot : nullptr;
}

} // namespace dnsproxy::frontend::doh
