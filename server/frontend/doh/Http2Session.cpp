// Http2Session.cpp - DoH over HTTP/2 (RFC 9113) on an nghttp2 server session, memory to memory.
#include "frontend/doh/Http2Session.h"

#include "frontend/doh/DohRequest.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>

namespace dnsproxy::frontend::doh
{

namespace
{

/// Per-stream receive window: one DNS message (at most 65535 octets) fits, as RFC 9113's default.
constexpr uint32_t INITIAL_WINDOW = 65535;
/// RFC 9113 6.5.2: each header field counts its name, its value and 32 octets.
constexpr size_t HEADER_FIELD_OVERHEAD = 32;
/// Body bytes of an early-answered request (404, 413, ...) read and dropped before its upload is
/// cut with RST_STREAM: a normal client finishes its small upload and reads the answer.
constexpr size_t MAX_DISCARDED_BYTES = 1 << 20;

Http2Session& self(void* user)
{
	return *static_cast<Http2Session*>(user);
}

std::string_view view(const uint8_t* data, size_t length)
{
	return std::string_view(reinterpret_cast<const char*>(data), length);
}

bool isRequestHead(const nghttp2_frame* frame)
{
	return frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST;
}

int beginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user)
{
	return isRequestHead(frame) ? self(user).onBeginHeaders(frame->hd.stream_id) : 0;
}

int header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t nameLength, const uint8_t* value,
		   size_t valueLength, uint8_t, void* user)
{
	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	// Trailer fields count against the limit but are not looked at.
	const std::string_view storedName = isRequestHead(frame) ? view(name, nameLength) : std::string_view();
	auto* stream = self(user).stream(frame->hd.stream_id);
	if (stream)
		stream->headerBytes += nameLength + valueLength + HEADER_FIELD_OVERHEAD;
	return self(user).onHeader(frame->hd.stream_id, storedName, view(value, valueLength));
}

int frameReceived(nghttp2_session*, const nghttp2_frame* frame, void* user)
{
	const bool endStream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
	if (frame->hd.type == NGHTTP2_HEADERS)
		return self(user).onRequestPart(frame->hd.stream_id, isRequestHead(frame), endStream);
	if (frame->hd.type == NGHTTP2_DATA && endStream)
		return self(user).onRequestPart(frame->hd.stream_id, false, true);
	return 0;
}

int dataChunk(nghttp2_session*, uint8_t, int32_t streamId, const uint8_t* data, size_t length, void* user)
{
	return self(user).onData(streamId, data, length);
}

int frameSent(nghttp2_session*, const nghttp2_frame* frame, void* user)
{
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	return self(user).onFrameSent(frame->hd.stream_id, (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0);
}

int streamClosed(nghttp2_session*, int32_t streamId, uint32_t, void* user)
{
	return self(user).onStreamClose(streamId);
}

ssize_t readBody(nghttp2_session*, int32_t streamId, uint8_t* buffer, size_t length, uint32_t* flags,
				 nghttp2_data_source*, void* user)
{
	auto* stream = self(user).stream(streamId);
	if (!stream)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	const size_t count = std::min(length, stream->body.size() - stream->sent);
	if (count > 0)
		std::memcpy(buffer, stream->body.data() + stream->sent, count);
	stream->sent += count;
	if (stream->sent == stream->body.size())
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return static_cast<ssize_t>(count);
}

/// A decimal content-length above `limit` (nghttp2 has rejected non-digits already).
bool exceeds(std::string_view digits, size_t limit)
{
	size_t value = 0;
	for (const char c : digits)
	{
		if (c < '0' || c > '9')
			return false;
		value = value * 10 + static_cast<size_t>(c - '0');
		if (value > limit)
			return true;
	}
	return false;
}

nghttp2_nv field(const char* name, const std::string& value)
{
	return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
					  reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), std::strlen(name), value.size(),
					  NGHTTP2_NV_FLAG_NONE};
}

} // namespace

std::unique_ptr<DohSession> DohSession::http2(const DohSettings& settings, DohHandler& handler)
{
	return std::make_unique<Http2Session>(settings, handler);
}

Http2Session::Http2Session(const DohSettings& settings, DohHandler& handler):
	_settings(settings),
	_handler(handler)
{
	nghttp2_session_callbacks* callbacks = nullptr;
	if (nghttp2_session_callbacks_new(&callbacks) != 0)
		throw std::bad_alloc();
	nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, beginHeaders);
	nghttp2_session_callbacks_set_on_header_callback(callbacks, header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, frameReceived);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, dataChunk);
	nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, frameSent);
	nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, streamClosed);
	const int rv = nghttp2_session_server_new(&_session, callbacks, this);
	nghttp2_session_callbacks_del(callbacks);
	if (rv != 0)
		throw std::bad_alloc();
	const nghttp2_settings_entry entries[] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, _settings.maxStreams},
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, INITIAL_WINDOW},
		{NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(_settings.maxHeaderBytes)},
	};
	if (nghttp2_submit_settings(_session, NGHTTP2_FLAG_NONE, entries, sizeof(entries) / sizeof(entries[0])) != 0)
		throw std::bad_alloc();
}

Http2Session::~Http2Session()
{
	nghttp2_session_del(_session);
}

bool Http2Session::feed(const uint8_t* data, size_t length)
{
	if (_fatal)
		return false;
	const ssize_t rv = nghttp2_session_mem_recv(_session, data, length);
	if (rv >= 0)
		return true;
	// Bad client preface, flood, or a callback failure: GOAWAY (queued for takeOutput), then close.
	_fatal = true;
	nghttp2_session_terminate_session(_session,
									  rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
	return false;
}

void Http2Session::answer(RequestId id, const uint8_t* dns, size_t length)
{
	if (!finishPending(id))
		return;
	const auto streamId = static_cast<int32_t>(id);
	Stream* s = stream(streamId);
	if (!s)
		return; // reset by the client meanwhile
	s->body.assign(dns, dns + length);
	respond(streamId, *s, HTTP_OK, true, cacheMaxAge(dns, length));
}

void Http2Session::fail(RequestId id, int status)
{
	if (!finishPending(id))
		return;
	const auto streamId = static_cast<int32_t>(id);
	if (Stream* s = stream(streamId))
		respond(streamId, *s, status, false, 0);
}

void Http2Session::takeOutput(std::vector<uint8_t>& out)
{
	for (;;)
	{
		const uint8_t* data = nullptr;
		const ssize_t count = nghttp2_session_mem_send(_session, &data);
		if (count < 0)
		{
			_fatal = true;
			return;
		}
		if (count == 0)
			return;
		out.insert(out.end(), data, data + count);
	}
}

void Http2Session::closeGracefully()
{
	nghttp2_submit_goaway(_session, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(_session),
						  NGHTTP2_NO_ERROR, nullptr, 0);
}

bool Http2Session::wantsClose() const
{
	return _fatal || (!nghttp2_session_want_read(_session) && !nghttp2_session_want_write(_session));
}

size_t Http2Session::openRequests() const
{
	return _pending.size();
}

bool Http2Session::mayFeed() const
{
	return !wantsClose();
}

Http2Session::Stream* Http2Session::stream(int32_t streamId)
{
	const auto it = _streams.find(streamId);
	return it == _streams.end() ? nullptr : &it->second;
}

int Http2Session::onBeginHeaders(int32_t streamId)
{
	if (_pending.size() >= _settings.maxStreams)
	{
		// Unanswered queries of reset streams count too: refuse rather than queue more work.
		nghttp2_submit_rst_stream(_session, NGHTTP2_FLAG_NONE, streamId, NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	_streams.emplace(streamId, Stream());
	return 0;
}

int Http2Session::onHeader(int32_t streamId, std::string_view name, std::string_view value)
{
	Stream* s = stream(streamId);
	if (!s || s->earlyStatus != 0)
		return 0;
	if (s->headerBytes > _settings.maxHeaderBytes)
	{
		s->earlyStatus = HTTP_HEADERS_TOO_LARGE;
		s->method.clear(), s->path.clear(), s->contentType.clear();
	}
	else if (name == ":method")
		s->method.assign(value);
	else if (name == ":path")
		s->path.assign(value);
	else if (name == "content-type")
		s->contentType.assign(value);
	else if (name == "content-length" && exceeds(value, _settings.maxRequestBytes))
		s->earlyStatus = HTTP_PAYLOAD_TOO_LARGE;
	return 0;
}

int Http2Session::onRequestPart(int32_t streamId, bool headersDone, bool endStream)
{
	Stream* s = stream(streamId);
	if (!s || s->responded || s->dispatched)
		return 0;
	if (headersDone)
	{
		if (s->earlyStatus == 0)
		{
			HeadVerdict verdict = checkHead(_settings, s->method, s->path, s->contentType);
			s->earlyStatus = verdict.status;
			if (verdict.status == 0 && !verdict.expectsBody)
				s->body = std::move(verdict.query);
		}
		if (s->earlyStatus != 0)
		{
			respondEarly(streamId, *s, s->earlyStatus);
			return 0;
		}
	}
	if (endStream)
		return completeRequest(streamId, *s);
	return 0;
}

int Http2Session::onData(int32_t streamId, const uint8_t* data, size_t length)
{
	Stream* s = stream(streamId);
	if (s && s->responded && !s->dispatched)
	{
		// Answered before its body ended (404, 413...): drop the body, but not for ever.
		s->discarded += length;
		if (s->discarded > MAX_DISCARDED_BYTES && !s->answeredEarly)
		{
			s->answeredEarly = true;
			nghttp2_submit_rst_stream(_session, NGHTTP2_FLAG_NONE, streamId, NGHTTP2_NO_ERROR);
		}
		return 0;
	}
	if (!s || s->responded || s->dispatched || s->method != "POST")
		return 0; // discarded: already answered, or a GET's body
	if (length > _settings.maxRequestBytes - s->body.size())
	{
		s->body = std::vector<uint8_t>();
		respondEarly(streamId, *s, HTTP_PAYLOAD_TOO_LARGE);
		return 0;
	}
	s->body.insert(s->body.end(), data, data + length);
	return 0;
}

int Http2Session::onFrameSent(int32_t streamId, bool endStream)
{
	Stream* s = stream(streamId);
	if (endStream && s && s->answeredEarly && !nghttp2_session_get_stream_remote_close(_session, streamId))
	{
		// RFC 9113 8.1: a complete response before the request is complete, then stop the upload.
		nghttp2_submit_rst_stream(_session, NGHTTP2_FLAG_NONE, streamId, NGHTTP2_NO_ERROR);
	}
	return 0;
}

int Http2Session::onStreamClose(int32_t streamId)
{
	_streams.erase(streamId);
	return 0;
}

int Http2Session::completeRequest(int32_t streamId, Stream& s)
{
	if (s.method == "POST")
	{
		if (const int status = checkBodyLength(_settings, s.body.size()))
		{
			respond(streamId, s, status, false, 0);
			return 0;
		}
	}
	s.dispatched = true;
	_pending.insert(static_cast<RequestId>(streamId));
	try
	{
		// May call answer() at once; `s` stays valid (std::map) and is not touched after.
		_handler.onQuery(static_cast<RequestId>(streamId), std::move(s.body));
	}
	catch (const std::exception&)
	{
		return NGHTTP2_ERR_CALLBACK_FAILURE; // fatal for the session: feed() returns false
	}
	return 0;
}

void Http2Session::respond(int32_t streamId, Stream& s, int status, bool withBody, uint32_t maxAge)
{
	countStatus(status);
	const std::string statusText = std::to_string(status);
	const std::string length = std::to_string(withBody ? s.body.size() : 0);
	const std::string cacheControl = "max-age=" + std::to_string(maxAge);
	const std::string allow = ALLOWED_METHODS;
	const std::string type = DNS_MESSAGE_TYPE;
	nghttp2_nv fields[5];
	size_t count = 0;
	fields[count++] = field(":status", statusText);
	if (withBody)
	{
		fields[count++] = field("content-type", type);
		fields[count++] = field("cache-control", cacheControl);
	}
	fields[count++] = field("content-length", length);
	if (status == HTTP_METHOD_NOT_ALLOWED)
		fields[count++] = field("allow", allow);
	s.sent = 0;
	s.responded = true;
	nghttp2_data_provider provider{};
	provider.read_callback = readBody;
	// nghttp2 copies the fields; a refusal (stream closing) leaves nothing to do.
	nghttp2_submit_response(_session, streamId, fields, count, withBody ? &provider : nullptr);
}

void Http2Session::respondEarly(int32_t streamId, Stream& s, int status)
{
	// The rest of the body is read and dropped (onData); only an upload that goes on past
	// MAX_DISCARDED_BYTES is cut with RST_STREAM NO_ERROR (RFC 9113 8.1). Resetting at once would be
	// allowed too, but clients such as curl 7.88 then report an error instead of the response.
	s.answeredEarly = false;
	s.earlyStatus = status;
	respond(streamId, s, status, false, 0);
}

bool Http2Session::finishPending(RequestId id)
{
	return _pending.erase(id) > 0;
}

} // namespace dnsproxy::frontend::doh
