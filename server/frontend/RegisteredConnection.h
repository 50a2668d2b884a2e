// RegisteredConnection.h - what a client stream connection shows the process-wide ConnectionRegistry.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace dnsproxy::frontend
{

class ConnectionRegistry;

/// Base of every client stream connection (TCP today; TLS and DoH derive from it too). It holds
/// the state the ConnectionRegistry needs to choose, from any accepting thread, the idlest
/// connection of the whole process: whether the connection is idle (no query in flight and no
/// answer byte unwritten) and when it was last active. Both are atomics written by the
/// connection's own loop and read by the registry under its lock.
///
/// What a derived class must do:
/// - call publishActivity(lastActivity, idle) whenever its last activity or its idleness changes
///   (a query taken, an answer queued or written, an answer dropped); a busy connection is never
///   chosen, so publish "not idle" as soon as a query is taken;
/// - implement evict(): the registry has given this connection's slot to a newcomer; post a
///   close to the connection's own loop and return (nothing else, and never call the registry);
/// - call leaveRegistry() when it closes, on its loop, before it is destroyed: until leaveRegistry()
///   returns the registry may call evict() from another thread.
///
/// Threading: publishActivity() and leaveRegistry() on the connection's loop thread; evict() on an
/// accepting thread under the registry's lock; evicted() from any thread.
class RegisteredConnection
{
public:
	using Clock = std::chrono::steady_clock;

	RegisteredConnection() = default;
	RegisteredConnection(const RegisteredConnection&) = delete;
	RegisteredConnection& operator=(const RegisteredConnection&) = delete;
	/// A backstop only: a derived class has already called leaveRegistry() (see above).
	virtual ~RegisteredConnection();

	/// Loop thread: the connection was last active at `lastActivity` and is `idle` now.
	void publishActivity(Clock::time_point lastActivity, bool idle)
	{
		_lastActivityNs.store(lastActivity.time_since_epoch().count(), std::memory_order_relaxed);
		_idle.store(idle, std::memory_order_relaxed);
	}
	/// Loop thread: leaves the registry (idempotent); the slot is freed unless it was given away.
	void leaveRegistry();

	/// The registry gave this connection's slot to a newcomer: it is being closed.
	bool evicted() const
	{
		return _evicted.load(std::memory_order_relaxed);
	}
	bool publishedIdle() const
	{
		return _idle.load(std::memory_order_relaxed);
	}
	Clock::time_point publishedActivity() const
	{
		return Clock::time_point(Clock::duration(_lastActivityNs.load(std::memory_order_relaxed)));
	}

	/// Accepting thread, under the registry's lock, at most once: close this connection on its own
	/// loop (post there) and return.
	virtual void evict() = 0;

private:
	friend class ConnectionRegistry;

	std::atomic<Clock::rep> _lastActivityNs{0};
	std::atomic<bool> _idle{true};
	std::atomic<bool> _evicted{false};
	std::atomic<ConnectionRegistry*> _registry{nullptr}; ///< set by admit(), cleared by leave()
	size_t _index = 0;                                   ///< position in the registry; under its lock
};

} // namespace dnsproxy::frontend
