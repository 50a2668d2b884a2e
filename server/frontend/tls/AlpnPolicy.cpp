// AlpnPolicy.cpp - the server's ALPN choice per listener kind, server preference order.
#include "frontend/tls/AlpnPolicy.h"

#include <vector>

namespace dnsproxy::frontend::tls
{

namespace
{

/// The offered name equal to `wanted`, if any; stops at a malformed entry.
std::string_view findOffered(const unsigned char* offered, unsigned length, std::string_view wanted)
{
	unsigned at = 0;
	while (at < length)
	{
		const unsigned size = offered[at];
		if (size == 0 || at + 1 + size > length)
			break;
		const std::string_view name(reinterpret_cast<const char*>(offered + at + 1), size);
		if (name == wanted)
			return name;
		at += 1 + size;
	}
	return {};
}

// The callback's `arg` points at one of these, which live for the whole process.
const Alpn DOT_KIND = Alpn::DOT;
const Alpn DOH_KIND = Alpn::DOH;

int selectCallback(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* in,
				   unsigned inLength, void* arg)
{
	const AlpnChoice choice = chooseAlpn(*static_cast<const Alpn*>(arg), in, inLength);
	switch (choice.verdict)
	{
	case AlpnChoice::Verdict::SELECT:
		*out = reinterpret_cast<const unsigned char*>(choice.protocol.data());
		*outLength = static_cast<unsigned char>(choice.protocol.size());
		return SSL_TLSEXT_ERR_OK;
	case AlpnChoice::Verdict::REFUSE:
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	case AlpnChoice::Verdict::NONE:
		break;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

} // namespace

AlpnChoice chooseAlpn(Alpn kind, const unsigned char* offered, unsigned length)
{
	AlpnChoice choice;
	static const std::vector<std::string_view> DOT_PREFERENCES{"dot"};
	static const std::vector<std::string_view> DOH_PREFERENCES{"h2", "http/1.1"};
	for (const std::string_view wanted : kind == Alpn::DOT ? DOT_PREFERENCES : DOH_PREFERENCES)
	{
		choice.protocol = findOffered(offered, length, wanted);
		if (!choice.protocol.empty())
		{
			choice.verdict = AlpnChoice::Verdict::SELECT;
			return choice;
		}
	}
	// OpenSSL calls the callback only when the client sent the extension; an empty list is
	// malformed and rejected before. So here the client offered something we do not speak.
	choice.verdict = kind == Alpn::DOT ? AlpnChoice::Verdict::NONE : AlpnChoice::Verdict::REFUSE;
	return choice;
}

void installAlpnPolicy(SSL_CTX* ctx, Alpn kind)
{
	SSL_CTX_set_alpn_select_cb(ctx, selectCallback, const_cast<Alpn*>(kind == Alpn::DOT ? &DOT_KIND : &DOH_KIND));
}

const char* alpnKindName(Alpn kind)
{
	return kind == Alpn::DOT ? "DoT" : "DoH";
}

} // namespace dnsproxy::frontend::tls
