// FlightCoalescer.cpp - the map of questions in flight and the fan-out of their answers.
#include "upstream/FlightCoalescer.h"

#include "cache/CacheKey.h"
#include "dns/Constants.h"
#include "dns/Header.h"

namespace dnsproxy::upstream
{

std::string FlightCoalescer::key(const std::vector<uint8_t>& query, const dns::MessageInfo& info)
{
	std::string out;
	if (info.qnameOffset + info.qnameLength > query.size() || !cache::CacheKey::fromQuery(query.data(), info, out))
		out.clear();
	return out;
}

bool FlightCoalescer::join(const std::string& key, uint16_t id, Callback done)
{
	std::lock_guard<std::mutex> lock(_mutex);
	auto [it, first] = _flights.try_emplace(key);
	it->second.push_back({id, std::move(done)});
	if (!first)
		_coalesced.fetch_add(1, std::memory_order_relaxed);
	return first;
}

void FlightCoalescer::land(const std::string& key, UpstreamResult&& result)
{
	std::vector<Waiter> waiters;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		auto it = _flights.find(key);
		if (it == _flights.end())
			return;
		waiters = std::move(it->second);
		_flights.erase(it);
	}
	for (size_t i = 0; i < waiters.size(); ++i)
	{
		UpstreamResult copy{result.status, i + 1 == waiters.size() ? std::move(result.answer) : result.answer};
		if (copy.answer.size() >= dns::HEADER_SIZE)
			dns::writeId(copy.answer.data(), waiters[i].id);
		waiters[i].done(std::move(copy));
	}
}

} // namespace dnsproxy::upstream
