// EventLoop.h - one epoll loop on one thread, with a wake-up for work posted from other threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dnsproxy::frontend
{

/// Something with a file descriptor that the loop watches.
class IoHandler
{
public:
	virtual ~IoHandler() = default;
	virtual void onReadable() = 0;
	virtual void onWritable()
	{
	}
	virtual void onError()
	{
		onReadable();
	}
};

/// A single-threaded reactor: epoll for readiness, an eventfd for post(), and a periodic tick.
///
/// Threading: run() owns the loop thread; add/modify/remove and every IoHandler callback happen on
/// that thread only. post() is the one call that other threads may make: it queues a task under a
/// mutex, raises an atomic flag (so rounds with nothing posted skip the mutex) and wakes the loop
/// through the eventfd. POCO's SocketReactor was not used because in 1.11 it
/// dispatches through notification objects allocated per event and has no cross-thread wake-up;
/// PollSet returns a freshly allocated std::map per poll. The sockets themselves are POCO sockets.
class EventLoop
{
public:
	using Clock = std::chrono::steady_clock;
	using Task = std::function<void()>;

	EventLoop();
	~EventLoop();
	EventLoop(const EventLoop&) = delete;
	EventLoop& operator=(const EventLoop&) = delete;

	void add(int fd, IoHandler* handler, bool wantWrite = false);
	void modify(int fd, IoHandler* handler, bool wantWrite, bool wantRead = true);
	void remove(int fd);

	/// Thread-safe: runs `task` on the loop thread soon.
	void post(Task task);

	/// Called on the loop thread about every `intervalMs` (idle timeouts and similar).
	void setTick(unsigned intervalMs, Task tick);

	void start(); ///< spawns the loop thread
	void stop();  ///< thread-safe; joins the loop thread when called from another thread

	bool inLoopThread() const;

private:
	void run();
	void wake();
	void drainPosted();

	int _epollFd = -1;
	int _wakeFd = -1;
	std::atomic<bool> _stopping{false};
	std::thread _thread;
	std::mutex _mutex;
	std::vector<Task> _posted;
	std::atomic<bool> _hasPosted{false}; ///< set under _mutex by post(), cleared by drainPosted()
	unsigned _tickIntervalMs = 0;
	Task _tick;
	Clock::time_point _nextTick;
};

} // namespace dnsproxy::frontend
