// DohClientConnection.cpp - HTTP sessions on top of a client TLS connection.
#include "frontend/DohClientConnection.h"

namespace dnsproxy::frontend
{

namespace
{
/// Status of a request whose query the proxy dropped without an answer (shutting down): the
/// service is unavailable now, the client may retry.
constexpr int STATUS_NO_ANSWER = 503;
/// Status of a request whose DNS message the proxy could not read at all.
constexpr int STATUS_BAD_MESSAGE = 400;
} // namespace

DohClientConnection::DohClientConnection(EventLoop& loop, Poco::Net::StreamSocket socket,
										 const Poco::Net::SocketAddress& peer, std::unique_ptr<ClientStream> stream,
										 QueryHandler& handler, stats::FrontendStats& stats, const TcpLimits& limits,
										 OutputBudget& budget, CloseCallback onClose, const doh::DohSettings& settings):
	TcpClientConnection(loop, std::move(socket), peer, std::move(stream), Transport::DOH, handler, stats, limits,
						budget, std::move(onClose)),
	_settings(settings)
{
}

DohClientConnection::~DohClientConnection() = default;

void DohClientConnection::onEstablished()
{
	const bool http2 = stream().alpn() == "h2";
	stats::bump(http2 ? frontendStats().doh.http2Connections : frontendStats().doh.http1Connections);
	_session = http2 ? doh::DohSession::http2(_settings, *this) : doh::DohSession::http1(_settings, *this);
	pump(); // HTTP/2: the server's SETTINGS go first
}

void DohClientConnection::pump()
{
	if (!_session)
		return;
	_session->takeOutput(outputForAppend());
	account();
	if (const size_t errors = _session->takeErrorCount())
		stats::bump(frontendStats().doh.httpErrors, errors);
}

void DohClientConnection::takeInput(const uint8_t* data, size_t length)
{
	if (!_session || _failed)
		return;
	if (!_session->feed(data, length))
		_failed = true;
	_inputHeld = !_session->mayFeed();
	if (closed())
		return;
	pump();
	flush();
}

bool DohClientConnection::mayRead() const
{
	return !_failed && _session && _session->mayFeed() && mayTakeQuery();
}

bool DohClientConnection::inputWaiting() const
{
	return _inputHeld;
}

void DohClientConnection::resumeInput()
{
	// The HTTP/1.1 session keeps the requests it did not parse; an empty feed lets it go on.
	_inputHeld = false;
	takeInput(nullptr, 0);
}

void DohClientConnection::onQuery(doh::RequestId id, std::vector<uint8_t>&& query)
{
	submitQuery(query.data(), query.size(), id, [this, id](std::vector<uint8_t>& answer) {
		_session->answer(id, answer.data(), answer.size());
	});
}

void DohClientConnection::droppedAtOnce(uint64_t tag)
{
	_session->fail(tag, STATUS_BAD_MESSAGE);
}

void DohClientConnection::deliver(uint64_t tag, std::vector<uint8_t>&& answer)
{
	if (!closed() && _session)
	{
		_session->answer(tag, answer.data(), answer.size());
		pump();
	}
	finishQuery();
}

void DohClientConnection::answerDropped(uint64_t tag)
{
	if (!closed() && _session)
	{
		_session->fail(tag, STATUS_NO_ANSWER);
		pump();
	}
	finishQuery();
}

bool DohClientConnection::closeWhenWritten() const
{
	return _failed || (_session && _session->wantsClose());
}

} // namespace dnsproxy::frontend
