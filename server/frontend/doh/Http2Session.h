// Http2Session.h - DoH over HTTP/2 (RFC 9113) on an nghttp2 server session, memory to memory.
#pragma once

#include "frontend/doh/DohSession.h"

#include <map>
#include <set>
#include <string>
#include <vector>

struct nghttp2_session;

namespace dnsproxy::frontend::doh
{

/// The server SETTINGS (MAX_CONCURRENT_STREAMS = maxStreams, INITIAL_WINDOW_SIZE 65535,
/// MAX_HEADER_LIST_SIZE = maxHeaderBytes) are queued at construction, so the first output is the
/// server's connection preface whatever the client sends (RFC 9113 3.4); nghttp2 itself checks
/// the client preface, a bad one is fatal.
///
/// Per stream: the headers of interest (:method, :path, content-type) and the body are kept
/// until the request is complete; header fields beyond maxHeaderBytes (name + value + 32 each,
/// RFC 9113 6.5.2) are not stored and the stream is answered 431. A rule broken by the request
/// head, or a body that grows past maxRequestBytes, is answered at once, before the request
/// ends, and the stream is then reset with NO_ERROR (RFC 9113 8.1). Streams over the limit are
/// refused by nghttp2 (REFUSED_STREAM); so are new streams while maxStreams queries are
/// unanswered, streams reset by the client included, so a client cannot pile up work by
/// opening and resetting streams. RequestId is the stream id.
///
/// nghttp2 validates the HTTP messaging rules (pseudo-headers, content-length against DATA) and
/// answers protocol violations with RST_STREAM or GOAWAY itself; floods end the session.
///
/// Threading: one thread, like DohSession.
class Http2Session: public DohSession
{
public:
	Http2Session(const DohSettings& settings, DohHandler& handler);
	~Http2Session() override;
	Http2Session(const Http2Session&) = delete;
	Http2Session& operator=(const Http2Session&) = delete;

	bool feed(const uint8_t* data, size_t length) override;
	void answer(RequestId id, const uint8_t* dns, size_t length) override;
	void fail(RequestId id, int status) override;
	void takeOutput(std::vector<uint8_t>& out) override;
	void closeGracefully() override;
	bool wantsClose() const override;
	size_t openRequests() const override;
	bool mayFeed() const override;

	/// One stream's request as far as it has arrived, then its response body.
	struct Stream
	{
		std::string method, path, contentType;
		size_t headerBytes = 0;
		int earlyStatus = 0;        // a rule already broken: answer this when the head is complete
		bool answeredEarly = false; // the upload of an early-answered request was cut (RST_STREAM)
		size_t discarded = 0;       // body bytes dropped after an early answer
		bool responded = false;     // a response was submitted
		bool dispatched = false;    // handed to onQuery
		std::vector<uint8_t> body;  // the request body, then the response body
		size_t sent = 0;            // response octets handed to nghttp2
	};

	// nghttp2 callbacks, public for the C trampolines in the .cpp only.
	int onBeginHeaders(int32_t streamId);
	int onHeader(int32_t streamId, std::string_view name, std::string_view value);
	int onRequestPart(int32_t streamId, bool headersDone, bool endStream);
	int onData(int32_t streamId, const uint8_t* data, size_t length);
	int onFrameSent(int32_t streamId, bool endStream);
	int onStreamClose(int32_t streamId);
	Stream* stream(int32_t streamId);

private:
	int completeRequest(int32_t streamId, Stream& stream);
	void respond(int32_t streamId, Stream& stream, int status, bool withBody, uint32_t maxAge);
	void respondEarly(int32_t streamId, Stream& stream, int status);
	bool finishPending(RequestId id);

	const DohSettings _settings;
	DohHandler& _handler;
	nghttp2_session* _session = nullptr;
	std::map<int32_t, Stream> _streams;
	std::set<RequestId> _pending; // onQuery'd, not answered; may outlive its stream
	bool _fatal = false;
};

} // namespace dnsproxy::frontend::doh
