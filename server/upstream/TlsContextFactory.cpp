// TlsContextFactory.cpp - client TLS context for DoT.
#include "upstream/TlsContextFactory.h"

#include "upstream/TlsVerifier.h"

#include <Poco/Net/RejectCertificateHandler.h>

#include <openssl/ssl.h>

namespace dnsproxy::upstream
{

Poco::Net::Context::Ptr TlsContextFactory::createClientContext(const TlsSettings& settings)
{
	Poco::Net::Context::Params params;
	params.caLocation = settings.caFile;
	params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
	params.loadDefaultCAs = false;
	params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
	Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
	context->requireMinimumProtocol(settings.minVersion == "1.3" ? Poco::Net::Context::PROTO_TLSV1_3
																 : Poco::Net::Context::PROTO_TLSV1_2);
	// A failed chain is never "accepted anyway": no console prompt, no global handler.
	context->setInvalidCertificateHandler(new Poco::Net::RejectCertificateHandler(false));
	// Chain, name and pins are decided by TlsVerifier's callback (strict aborts the handshake,
	// opportunistic records the failure); POCO's own post-handshake name check is therefore off.
	context->enableExtendedCertificateVerification(false);
	TlsVerifier::install(*context);
	if (settings.sessionResumption)
		context->enableSessionCache(true);
	SSL_CTX* ctx = context->sslContext();
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	// Non-blocking writes after the handshake: allow partial writes and a buffer that moves between retries.
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return context;
}

} // namespace dnsproxy::upstream
