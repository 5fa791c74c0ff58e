/// @file
/// Event (the seed's "class Event"): a flag tasks can wait for.
///
///      asyncio::Event ev;
///      co_await ev.wait();   // returns at once if set, else parks until set()
///      ev.set();             // wakes every waiter, oldest first
///
/// Call set() from the loop's thread only; from other threads or signal handlers use
/// ThreadSafeFlag. Waiting allocates nothing: the task's own links put it on the event's queue.
#pragma once

#include <coroutine>

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/detail/task_base.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

/// A flag tasks can wait for (the seed's Event): set() wakes every waiter.
class ASYNCIO_API Event {
public:
    /// Events start cleared.
    Event() = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    /// Tasks still waiting are woken with CancelledError (an Event must outlive its waiters).
    ~Event();

    /// True between set() and clear().
    [[nodiscard]] bool is_set() const noexcept { return set_; }

    /// Sets the flag and makes every waiter runnable, in the order they began waiting.
    void set() noexcept {
        set_ = true;
        if (!waiters_.empty()) detail::tls_scheduler->wake_all(waiters_);
    }

    /// Clears the flag. Waiters already woken by set() still return.
    void clear() noexcept { set_ = false; }

    class [[nodiscard]] Awaiter {
    public:
        explicit Awaiter(Event& e) noexcept : event_(e) {}
        bool await_ready() const noexcept { return event_.set_; }
        void await_suspend(std::coroutine_handle<> h) const noexcept {
            detail::tls_scheduler->park(h, event_.waiters_);
        }
        /// True, as MicroPython's wait() returns True.
        bool await_resume() const {
            detail::tls_scheduler->check_cancel();
            return true;
        }

    private:
        Event& event_;
    };

    /// Waits until the event is set. Returns at once, without suspending, if it is set already.
    /// Cancelling a waiter removes only that waiter.
    Awaiter wait() noexcept { return Awaiter(*this); }

private:
    bool set_ = false;
    detail::WaitQueue waiters_;
};

}  // namespace asyncio
