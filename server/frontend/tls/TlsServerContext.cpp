// TlsServerContext.cpp - building, swapping and describing the listener SSL_CTX generations.
#include "frontend/tls/TlsServerContext.h"

#include "frontend/tls/SelfSignedCertificate.h"

#include <openssl/err.h>

namespace dnsproxy::frontend::tls
{

namespace
{

/// TLS 1.2 suites, server order: forward secrecy and AEAD only (Mozilla "intermediate" without
/// the DHE suites, which would need DH parameters). TLS 1.3 suites stay OpenSSL's defaults.
const char* const TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
								  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
								  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/// Session ID contexts: a session resumes only on the kind of listener that made it.
const std::string DOT_SESSION_CONTEXT = "dnsproxy-dot";
const std::string DOH_SESSION_CONTEXT = "dnsproxy-doh";

const std::string SELF_SIGNED_NAME = "self-signed certificate";

int parseMinVersion(const std::string& text)
{
	if (text == "1.2")
		return TLS1_2_VERSION;
	if (text == "1.3")
		return TLS1_3_VERSION;
	throw TlsSetupError("min_version: '" + text + "' is not 1.2 or 1.3");
}

void check(bool ok, const std::string& what)
{
	if (!ok)
		throw TlsSetupError("TLS server context: cannot " + what + ": " + openSslReason("unknown"));
}

} // namespace

/// One loaded certificate and the contexts built from it; immutable once built.
struct TlsServerContext::Generation
{
	TlsServerSettings settings;
	std::shared_ptr<const CertificatePair> pair;
	std::shared_ptr<SSL_CTX> dot;
	std::shared_ptr<SSL_CTX> doh;
	std::string pin;
	std::string description;
	bool selfSigned = false;
};

TlsServerContext::TlsServerContext(const TlsServerSettings& settings, TlsClock clock):
	_tickets(std::make_shared<TicketKeyRing>(std::move(clock)))
{
	install(build(settings, true));
}

TlsServerContext::~TlsServerContext() = default;

std::shared_ptr<const TlsServerContext::Generation> TlsServerContext::build(const TlsServerSettings& settings,
																			bool mayCreate) const
{
	const int minVersion = parseMinVersion(settings.minVersion);
	auto generation = std::make_shared<Generation>();
	generation->settings = settings;
	generation->selfSigned = settings.certFile.empty() && settings.keyFile.empty();
	if (generation->selfSigned)
	{
		if (settings.selfSignedPath.empty())
			throw TlsSetupError(std::string(CertificatePair::CERT_KEY) + ": no certificate and no place for a " +
								SELF_SIGNED_NAME);
		if (mayCreate)
			SelfSignedCertificate::ensure(settings.selfSignedPath);
		generation->pair = std::make_shared<const CertificatePair>(CertificatePair::load(
			settings.selfSignedPath, settings.selfSignedPath, SELF_SIGNED_NAME, SELF_SIGNED_NAME));
	}
	else if (settings.certFile.empty() || settings.keyFile.empty())
		throw TlsSetupError(
			std::string(settings.certFile.empty() ? CertificatePair::CERT_KEY : CertificatePair::KEY_KEY) +
			": must be set together with " +
			(settings.certFile.empty() ? CertificatePair::KEY_KEY : CertificatePair::CERT_KEY));
	else
		generation->pair =
			std::make_shared<const CertificatePair>(CertificatePair::load(settings.certFile, settings.keyFile));
	generation->pin = generation->pair->spkiPin();
	generation->description = (generation->selfSigned ? "self-signed " : "") + generation->pair->describe();
	generation->dot = makeContext(*generation, Alpn::DOT, minVersion);
	generation->doh = makeContext(*generation, Alpn::DOH, minVersion);
	return generation;
}

std::shared_ptr<SSL_CTX> TlsServerContext::makeContext(const Generation& generation, Alpn kind, int minVersion) const
{
	ERR_clear_error();
	SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
	check(ctx != nullptr, "create an SSL_CTX");
	SSL_CTX* c = ctx.get();
	check(SSL_CTX_set_min_proto_version(c, minVersion) == 1, "set the minimum TLS version");
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
							   SSL_OP_PRIORITIZE_CHACHA);
	SSL_CTX_clear_options(c, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	// Read-ahead: one read() takes every record the socket holds, not a 5-octet header and then
	// the body of each (two system calls per pipelined query: 30% of the CPU of DoT cache hits,
	// measured with perf). Records taken that way are no longer visible to epoll: see
	// TlsStream::hasBufferedInput.
	SSL_CTX_set_read_ahead(c, 1);
	check(SSL_CTX_set_cipher_list(c, TLS12_CIPHERS) == 1, "set the TLS 1.2 cipher suites");
	const CertificatePair& pair = *generation.pair;
	check(SSL_CTX_use_certificate(c, pair.leaf()) == 1, "use the certificate of " + pair.certFile());
	check(SSL_CTX_use_PrivateKey(c, pair.key()) == 1, "use the key of " + pair.keyFile());
	check(SSL_CTX_check_private_key(c) == 1, "match the key of " + pair.keyFile());
	check(SSL_CTX_set1_chain(c, pair.chain()) == 1, "use the chain of " + pair.certFile());
	const std::string& sessionContext = kind == Alpn::DOT ? DOT_SESSION_CONTEXT : DOH_SESSION_CONTEXT;
	check(SSL_CTX_set_session_id_context(c, reinterpret_cast<const unsigned char*>(sessionContext.data()),
										 static_cast<unsigned>(sessionContext.size())) == 1,
		  "set the session ID context");
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(c, SESSION_CACHE_SIZE);
	SSL_CTX_set_timeout(c, SESSION_TIMEOUT_SECONDS);
	try
	{
		_tickets->install(c);
	}
	catch (const std::runtime_error& e)
	{
		throw TlsSetupError(std::string("TLS server context: ") + e.what());
	}
	installAlpnPolicy(c, kind);
	ERR_clear_error();
	// The context points at the ring (ex_data): the deleter keeps the ring alive as long as the
	// context, even past this object (TlsStream holds its context's shared_ptr).
	std::shared_ptr<TicketKeyRing> tickets = _tickets;
	return std::shared_ptr<SSL_CTX>(ctx.release(), [tickets](SSL_CTX* p) { SSL_CTX_free(p); });
}

std::shared_ptr<const TlsServerContext::Generation> TlsServerContext::current() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _current;
}

void TlsServerContext::install(std::shared_ptr<const Generation> generation)
{
	std::lock_guard<std::mutex> lock(_mutex);
	_current = std::move(generation);
	_lastError.clear();
	++_generations;
}

std::shared_ptr<SSL_CTX> TlsServerContext::context(Alpn kind) const
{
	const auto generation = current();
	return kind == Alpn::DOT ? generation->dot : generation->doh;
}

std::string TlsServerContext::spkiPin() const
{
	return current()->pin;
}

bool TlsServerContext::selfSigned() const
{
	return current()->selfSigned;
}

std::string TlsServerContext::describe() const
{
	return current()->description;
}

std::string TlsServerContext::lastError() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _lastError;
}

uint64_t TlsServerContext::generation() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _generations;
}

uint64_t TlsServerContext::rotateTicketKeysIfDue()
{
	_tickets->rotateIfDue();
	return _tickets->generations();
}

bool TlsServerContext::reloadIfChanged()
{
	std::lock_guard<std::mutex> reloadLock(_reloadMutex);
	const auto generation = current();
	const CertificatePair& pair = *generation->pair;
	auto stamps = std::make_pair(FileStamp::of(pair.certFile()), FileStamp::of(pair.keyFile()));
	if (stamps.first == pair.certStamp() && stamps.second == pair.keyStamp())
		return false;
	if (_failedStamps == stamps)
		return false;
	try
	{
		install(build(generation->settings, false));
		_failedStamps.reset();
		return true;
	}
	catch (const TlsSetupError& e)
	{
		_failedStamps = stamps;
		std::lock_guard<std::mutex> lock(_mutex);
		_lastError = e.what();
		return false;
	}
}

void TlsServerContext::reload(const TlsServerSettings& settings)
{
	std::lock_guard<std::mutex> reloadLock(_reloadMutex);
	try
	{
		install(build(settings, true));
		_failedStamps.reset();
	}
	catch (const TlsSetupError& e)
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_lastError = e.what();
		throw;
	}
}

} // namespace dnsproxy::frontend::tls
