// WorkerThread.h - one or more worker threads with the stop flag, mutex and condition variable that go with them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dnsproxy::common
{

/// The start/stop pattern of every background worker: start() launches `count` threads running
/// the owner's loop; stop() sets the stop flag under mutex(), wakes every waiter and joins. The
/// owner's loop holds mutex() while it looks at stopping() and at its own queue, and waits on
/// condition(); producers lock mutex() to queue work and call notifyOne(). Standard library only,
/// so every layer (upstream included) can use it.
///
/// Threading: start() and stop() may be called from any thread but not from a worker; stop() is
/// idempotent, and a stopped helper can be started again. stopping() is read with mutex() held.
class WorkerThread
{
public:
	WorkerThread() = default;
	~WorkerThread()
	{
		stop();
	}
	WorkerThread(const WorkerThread&) = delete;
	WorkerThread& operator=(const WorkerThread&) = delete;

	/// Launches `count` threads that each run `body`; does nothing while threads already run.
	void start(const std::function<void()>& body, size_t count = 1)
	{
		std::lock_guard<std::mutex> control(_control);
		if (!_threads.empty())
			return;
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_stopping = false;
		}
		for (size_t i = 0; i < count; ++i)
			_threads.emplace_back(body);
	}

	/// Sets the stop flag, wakes every waiter and joins every thread.
	void stop()
	{
		std::lock_guard<std::mutex> control(_control);
		{
			std::lock_guard<std::mutex> lock(_mutex);
			_stopping = true;
		}
		_wake.notify_all();
		for (auto& thread : _threads)
			thread.join();
		_threads.clear();
	}

	/// True once stop() has begun (until the next start()); read with mutex() held.
	bool stopping() const
	{
		return _stopping;
	}

	/// Guards the stop flag; owners guard their own queue with it too.
	std::mutex& mutex()
	{
		return _mutex;
	}

	/// What the workers wait on (with mutex() held).
	std::condition_variable& condition()
	{
		return _wake;
	}

	void notifyOne()
	{
		_wake.notify_one();
	}

	void notifyAll()
	{
		_wake.notify_all();
	}

private:
	std::mutex _control; ///< serialises start() and stop(), held while joining
	std::mutex _mutex;
	std::condition_variable _wake;
	bool _stopping = false;
	std::vector<std::thread> _threads;
};

} // namespace dnsproxy::common
