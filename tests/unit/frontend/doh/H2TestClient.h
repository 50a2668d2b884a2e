// H2TestClient.h - an nghttp2 client session wired memory to memory to a DohSession under test.
#pragma once

#include "frontend/doh/DohSession.h"

#include <nghttp2/nghttp2.h>

#include <cstring>
#include <list>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dnsproxy::test
{

/// What the client saw on one stream.
struct H2Response
{
	std::map<std::string, std::string> headers; // ":status" included
	std::vector<uint8_t> body;
	bool closed = false;
	uint32_t errorCode = 0; // of RST_STREAM, when the stream was reset
	int status() const
	{
		const auto it = headers.find(":status");
		return it == headers.end() ? 0 : std::stoi(it->second);
	}
};

/// A real HTTP/2 client (nghttp2, its own protocol checks included) for driving the server
/// session: submit requests, then exchange() moves bytes both ways until both are quiet.
class H2TestClient
{
public:
	H2TestClient()
	{
		nghttp2_session_callbacks* callbacks = nullptr;
		nghttp2_session_callbacks_new(&callbacks);
		nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onData);
		nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onClose);
		nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrame);
		nghttp2_session_client_new(&_session, callbacks, this);
		nghttp2_session_callbacks_del(callbacks);
		nghttp2_submit_settings(_session, NGHTTP2_FLAG_NONE, nullptr, 0);
	}
	~H2TestClient()
	{
		nghttp2_session_del(_session);
	}
	H2TestClient(const H2TestClient&) = delete;
	H2TestClient& operator=(const H2TestClient&) = delete;

	/// Submits a request; `body` (when not empty) goes in DATA frames. Returns the stream id.
	int32_t request(const std::string& method, const std::string& path,
					const std::vector<std::pair<std::string, std::string>>& extra = {},
					const std::vector<uint8_t>& body = {})
	{
		std::vector<std::pair<std::string, std::string>> fields = {
			{":method", method}, {":scheme", "https"}, {":authority", "dns.example"}, {":path", path}};
		fields.insert(fields.end(), extra.begin(), extra.end());
		std::vector<nghttp2_nv> nva;
		for (auto& [name, value] : fields)
			nva.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()),
						   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
		nghttp2_data_provider provider{};
		if (!body.empty())
		{
			_bodies.push_back({body, 0});
			provider.source.ptr = &_bodies.back();
			provider.read_callback = readBody;
		}
		const int32_t id = nghttp2_submit_request(_session, nullptr, nva.data(), nva.size(),
												  body.empty() ? nullptr : &provider, nullptr);
		if (id < 0)
			throw std::runtime_error(nghttp2_strerror(id));
		if (!body.empty())
			_bodyOfStream[id] = &_bodies.back();
		return id;
	}

	void reset(int32_t streamId, uint32_t errorCode = NGHTTP2_CANCEL)
	{
		nghttp2_submit_rst_stream(_session, NGHTTP2_FLAG_NONE, streamId, errorCode);
	}

	/// The client's own bytes, not yet given to the server (e.g. to corrupt or split them).
	std::vector<uint8_t> pendingBytes()
	{
		std::vector<uint8_t> bytes;
		const uint8_t* data = nullptr;
		for (ssize_t n; (n = nghttp2_session_mem_send(_session, &data)) > 0;)
			bytes.insert(bytes.end(), data, data + n);
		return bytes;
	}

	/// Moves bytes both ways until neither side has any; false when the server's feed() failed.
	bool exchange(frontend::doh::DohSession& server)
	{
		bool fed = true;
		for (int round = 0; round < 100; ++round)
		{
			std::vector<uint8_t> fromServer;
			server.takeOutput(fromServer);
			serverBytes += fromServer.size();
			if (!fromServer.empty() && nghttp2_session_mem_recv(_session, fromServer.data(), fromServer.size()) < 0)
				throw std::runtime_error("client rejected the server's bytes");
			const std::vector<uint8_t> toServer = pendingBytes();
			if (!toServer.empty() && fed)
				fed = server.feed(toServer.data(), toServer.size());
			if (fromServer.empty() && toServer.empty())
				break;
		}
		return fed;
	}

	uint32_t remoteSetting(nghttp2_settings_id id) const
	{
		return nghttp2_session_get_remote_settings(_session, id);
	}

	/// The error code of the server's GOAWAY, or -1 before one arrived.
	int64_t goAwayError = -1;

	/// Request body octets of the stream that were never sent (the server stopped the upload).
	size_t uploadLeft(int32_t streamId) const
	{
		const auto it = _bodyOfStream.find(streamId);
		return it == _bodyOfStream.end() ? 0 : it->second->data.size() - it->second->sent;
	}

	std::map<int32_t, H2Response> responses;
	size_t serverBytes = 0;

private:
	struct Body
	{
		std::vector<uint8_t> data;
		size_t sent;
	};

	static H2TestClient& self(void* user)
	{
		return *static_cast<H2TestClient*>(user);
	}

	static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t nameLength,
						const uint8_t* value, size_t valueLength, uint8_t, void* user)
	{
		self(user).responses[frame->hd.stream_id].headers[std::string(name, name + nameLength)] =
			std::string(value, value + valueLength);
		return 0;
	}

	static int onData(nghttp2_session*, uint8_t, int32_t streamId, const uint8_t* data, size_t length, void* user)
	{
		auto& body = self(user).responses[streamId].body;
		body.insert(body.end(), data, data + length);
		return 0;
	}

	static int onClose(nghttp2_session*, int32_t streamId, uint32_t errorCode, void* user)
	{
		auto& response = self(user).responses[streamId];
		response.closed = true;
		response.errorCode = errorCode;
		return 0;
	}

	static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user)
	{
		if (frame->hd.type == NGHTTP2_GOAWAY)
			self(user).goAwayError = frame->goaway.error_code;
		return 0;
	}

	static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buffer, size_t length, uint32_t* flags,
							nghttp2_data_source* source, void*)
	{
		auto* body = static_cast<Body*>(source->ptr);
		const size_t count = std::min(length, body->data.size() - body->sent);
		std::memcpy(buffer, body->data.data() + body->sent, count);
		body->sent += count;
		if (body->sent == body->data.size())
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		return static_cast<ssize_t>(count);
	}

	nghttp2_session* _session = nullptr;
	std::list<Body> _bodies;
	std::map<int32_t, const Body*> _bodyOfStream;
};

} // namespace dnsproxy::test
