// OpenSslPtr.h - unique_ptr aliases that free OpenSSL objects with their own free functions.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace dnsproxy::frontend::tls
{

/// Calls the OpenSSL free function F on destruction (F accepts nullptr).
template <typename T, void (*F)(T*)> struct OpenSslDeleter
{
	void operator()(T* p) const
	{
		F(p);
	}
};

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using SslPtr = std::unique_ptr<SSL, OpenSslDeleter<SSL, SSL_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslDeleter<SSL_CTX, SSL_CTX_free>>;

/// A chain of certificates, freed with its elements.
struct X509StackDeleter
{
	void operator()(STACK_OF(X509) * stack) const
	{
		sk_X509_pop_free(stack, X509_free);
	}
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

} // namespace dnsproxy::frontend::tls
