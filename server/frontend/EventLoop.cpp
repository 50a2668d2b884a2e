// EventLoop.cpp - epoll reactor with an eventfd wake-up.
#include "frontend/EventLoop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dnsproxy::frontend
{

namespace
{
// The wake-up fd is registered with a null handler pointer; real handlers are never null.
constexpr uint64_t WAKE_TAG = 0;
} // namespace

EventLoop::EventLoop()
{
	_epollFd = ::epoll_create1(EPOLL_CLOEXEC);
	if (_epollFd < 0)
		throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
	_wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (_wakeFd < 0)
	{
		::close(_epollFd);
		throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
	}
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.u64 = WAKE_TAG;
	::epoll_ctl(_epollFd, EPOLL_CTL_ADD, _wakeFd, &ev);
}

EventLoop::~EventLoop()
{
	stop();
	::close(_wakeFd);
	::close(_epollFd);
}

void EventLoop::add(int fd, IoHandler* handler, bool wantWrite)
{
	epoll_event ev{};
	ev.events = EPOLLIN | (wantWrite ? static_cast<uint32_t>(EPOLLOUT) : 0u);
	ev.data.ptr = handler;
	if (::epoll_ctl(_epollFd, EPOLL_CTL_ADD, fd, &ev) != 0)
		throw std::runtime_error(std::string("epoll_ctl add: ") + std::strerror(errno));
}

void EventLoop::modify(int fd, IoHandler* handler, bool wantWrite, bool wantRead)
{
	epoll_event ev{};
	ev.events = (wantRead ? static_cast<uint32_t>(EPOLLIN) : 0u) | (wantWrite ? static_cast<uint32_t>(EPOLLOUT) : 0u);
	ev.data.ptr = handler;
	::epoll_ctl(_epollFd, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove(int fd)
{
	::epoll_ctl(_epollFd, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::post(Task task)
{
	{
		std::lock_guard<std::mutex> lock(_mutex);
		_posted.push_back(std::move(task));
		_hasPosted.store(true, std::memory_order_release);
	}
	wake();
}

void EventLoop::setTick(unsigned intervalMs, Task tick)
{
	_tickIntervalMs = intervalMs;
	_tick = std::move(tick);
	_nextTick = Clock::now() + std::chrono::milliseconds(intervalMs);
}

void EventLoop::start()
{
	_stopping = false;
	_thread = std::thread([this] { run(); });
}

void EventLoop::stop()
{
	_stopping = true;
	wake();
	if (_thread.joinable() && !inLoopThread())
		_thread.join();
}

bool EventLoop::inLoopThread() const
{
	return std::this_thread::get_id() == _thread.get_id();
}

void EventLoop::wake()
{
	uint64_t one = 1;
	// A full eventfd counter (EAGAIN) still means the loop will wake, so the result is irrelevant.
	[[maybe_unused]] ssize_t n = ::write(_wakeFd, &one, sizeof(one));
}

void EventLoop::drainPosted()
{
	// Most wake-ups are socket readiness with nothing posted: skip the mutex then. A post that
	// races with this sets the flag again after its push, so the next round drains it.
	if (!_hasPosted.exchange(false, std::memory_order_acq_rel))
		return;
	std::vector<Task> tasks;
	{
		std::lock_guard<std::mutex> lock(_mutex);
		tasks.swap(_posted);
	}
	for (auto& task : tasks)
		task();
}

void EventLoop::run()
{
	constexpr int MAX_EVENTS = 64;
	epoll_event events[MAX_EVENTS];
	while (!_stopping)
	{
		int timeoutMs = -1;
		if (_tick)
		{
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(_nextTick - Clock::now()).count();
			timeoutMs = left < 0 ? 0 : static_cast<int>(left);
		}
		int n = ::epoll_wait(_epollFd, events, MAX_EVENTS, timeoutMs);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; ++i)
		{
			if (events[i].data.u64 == WAKE_TAG)
			{
				uint64_t count;
				[[maybe_unused]] ssize_t r = ::read(_wakeFd, &count, sizeof(count));
				continue;
			}
			auto* handler = static_cast<IoHandler*>(events[i].data.ptr);
			if (events[i].events & (EPOLLERR | EPOLLHUP))
				handler->onError();
			else
			{
				if (events[i].events & EPOLLOUT)
					handler->onWritable();
				if (events[i].events & EPOLLIN)
					handler->onReadable();
			}
		}
		drainPosted();
		if (_tick && Clock::now() >= _nextTick)
		{
			_nextTick = Clock::now() + std::chrono::milliseconds(_tickIntervalMs);
			_tick();
		}
	}
	drainPosted();
}

} // namespace dnsproxy::frontend
