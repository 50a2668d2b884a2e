// ConnectionRegistry.cpp - admitting client stream connections and evicting the idlest one.
#include "frontend/ConnectionRegistry.h"

namespace dnsproxy::frontend
{

RegisteredConnection::~RegisteredConnection()
{
	leaveRegistry();
}

void RegisteredConnection::leaveRegistry()
{
	if (ConnectionRegistry* registry = _registry.load(std::memory_order_acquire))
		registry->leave(*this);
}

ConnectionRegistry::ConnectionRegistry(uint32_t maxConnections, stats::FrontendStats& stats):
	_max(maxConnections),
	_stats(stats)
{
}

ConnectionRegistry::~ConnectionRegistry()
{
	// Members outliving the registry (not expected: the Frontend closes them first) must not call it.
	std::lock_guard<std::mutex> lock(_mutex);
	for (auto* member : _members)
		member->_registry.store(nullptr, std::memory_order_release);
}

ConnectionRegistry::Verdict ConnectionRegistry::admit(RegisteredConnection& newcomer,
													  RegisteredConnection::Clock::time_point now)
{
	newcomer.publishActivity(now, true);
	std::lock_guard<std::mutex> lock(_mutex);
	Verdict verdict = Verdict::ADMITTED;
	if (_count >= _max)
	{
		RegisteredConnection* victim = idlest();
		if (!victim)
			return Verdict::REFUSED;
		// Its slot passes to the newcomer now; when it leaves, it frees nothing.
		victim->_evicted.store(true, std::memory_order_relaxed);
		--_count;
		stats::bump(_stats.tcpIdleClosed);
		victim->evict();
		verdict = Verdict::ADMITTED_BY_EVICTION;
	}
	else
		stats::bump(_stats.tcpConnectionsNow);
	newcomer._index = _members.size();
	_members.push_back(&newcomer);
	newcomer._registry.store(this, std::memory_order_release);
	++_count;
	return verdict;
}

RegisteredConnection* ConnectionRegistry::idlest() const
{
	RegisteredConnection* best = nullptr;
	RegisteredConnection::Clock::time_point bestActivity;
	for (auto* member : _members)
	{
		if (member->evicted() || !member->publishedIdle())
			continue;
		const auto activity = member->publishedActivity();
		if (!best || activity < bestActivity)
		{
			best = member;
			bestActivity = activity;
		}
	}
	return best;
}

void ConnectionRegistry::leave(RegisteredConnection& connection)
{
	std::lock_guard<std::mutex> lock(_mutex);
	if (connection._registry.load(std::memory_order_relaxed) != this)
		return; // left already: leaveRegistry() is idempotent
	connection._registry.store(nullptr, std::memory_order_relaxed);
	// Swap-remove: the last member takes the leaver's position.
	RegisteredConnection* last = _members.back();
	last->_index = connection._index;
	_members[connection._index] = last;
	_members.pop_back();
	if (!connection.evicted())
	{
		--_count;
		_stats.tcpConnectionsNow.fetch_sub(1, std::memory_order_relaxed);
	}
}

size_t ConnectionRegistry::count() const
{
	std::lock_guard<std::mutex> lock(_mutex);
	return _count;
}

} // namespace dnsproxy::frontend
