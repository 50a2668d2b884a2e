// TtlPolicy.cpp - cacheability and lifetime of an upstream answer.
#include "cache/TtlPolicy.h"

#include "dns/Constants.h"
#include "dns/TtlWalker.h"

#include <algorithm>

namespace dnsproxy::cache
{

TtlPolicy::TtlPolicy(const CacheSettings& settings):
	_minTtl(settings.minTtl),
	_maxTtl(settings.maxTtl),
	_negativeTtl(settings.negativeTtl),
	_servfailTtl(settings.servfailTtl)
{
}

TtlPolicy::Verdict TtlPolicy::admit(std::vector<uint8_t>& answer, const dns::MessageInfo& info) const
{
	Verdict verdict;
	if (!info.header.qr() || info.header.tc() || info.edns.extendedRcode != 0 || info.header.qdcount != 1)
		return verdict;
	const uint8_t rcode = info.header.rcode();
	const std::vector<uint8_t> original = answer;
	uint8_t* data = answer.data();
	const size_t len = answer.size();

	if (rcode == dns::Rcode::SERVFAIL)
	{
		verdict.kind = Kind::SERVFAIL;
		verdict.ttl = std::min(_servfailTtl, _maxTtl);
		if (!dns::clampTtls(data, len, 0, verdict.ttl))
			verdict.kind = Kind::NOT_CACHED;
	}
	else if (rcode == dns::Rcode::NXDOMAIN || (rcode == dns::Rcode::NOERROR && info.header.ancount == 0))
	{
		if (dns::clampTtls(data, len, _minTtl, _maxTtl))
		{
			if (auto negative = dns::negativeTtl(data, len))
			{
				verdict.kind = Kind::NEGATIVE;
				verdict.ttl = std::min(*negative, _negativeTtl);
				if (!dns::clampTtls(data, len, 0, verdict.ttl))
					verdict.kind = Kind::NOT_CACHED;
			}
		}
	}
	else if (rcode == dns::Rcode::NOERROR)
	{
		if (dns::clampTtls(data, len, _minTtl, _maxTtl))
		{
			if (auto minimum = dns::minimumTtl(data, len))
			{
				verdict.kind = Kind::POSITIVE;
				verdict.ttl = *minimum;
			}
		}
	}
	// RFC 1035 3.2.1: a zero TTL means "use for this transaction only".
	if (verdict.ttl == 0)
		verdict.kind = Kind::NOT_CACHED;
	if (verdict.kind == Kind::NOT_CACHED)
	{
		answer = original;
		verdict.ttl = 0;
	}
	return verdict;
}

} // namespace dnsproxy::cache
