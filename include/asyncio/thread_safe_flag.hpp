/// @file
/// ThreadSafeFlag (the seed's "class ThreadSafeFlag"): the bridge from other threads and POSIX
/// signal handlers into the loop.
///
///      asyncio::ThreadSafeFlag flag;
///      std::thread worker([&] { produce(); flag.set(); });   // any thread, or a signal handler
///      co_await flag.wait();                                  // in a task; auto-resets
///
/// set() is async-signal-safe: lock-free atomics, plus at most one write() to the loop's eventfd
/// when the loop may be blocked, so an idle loop wakes within microseconds. Only one task may
/// wait at a time (a second concurrent waiter raises RuntimeError). The flag must outlive every
/// thread that may still call set().
#pragma once

#include <atomic>
#include <coroutine>

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/detail/task_base.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

namespace detail {
class ThreadWakeups;
}

/// A flag that any thread or signal handler can set and one task waits on (the seed's
/// ThreadSafeFlag).
class ASYNCIO_API ThreadSafeFlag {
public:
    /// Flags start cleared.
    ThreadSafeFlag() = default;
    ThreadSafeFlag(const ThreadSafeFlag&) = delete;
    ThreadSafeFlag& operator=(const ThreadSafeFlag&) = delete;
    /// A task still waiting is woken with CancelledError; one that set() already woke returns
    /// normally. Neither touches the destroyed flag.
    ~ThreadSafeFlag();

    /// Sets the flag and, if a task waits, schedules it. Safe from any thread and from a
    /// signal handler. Several set() calls before the waiter runs give one wake-up.
    void set() noexcept;

    /// Clears the flag (e.g. to drop a set() that happened before a wait()).
    void clear() noexcept { flag_.store(false, std::memory_order_relaxed); }

    class [[nodiscard]] Awaiter {
    public:
        explicit Awaiter(ThreadSafeFlag& f) noexcept : flag_(&f) {}
        /// Already set: clear it and return without suspending.
        bool await_ready() const noexcept { return flag_->flag_.exchange(false, std::memory_order_acq_rel); }
        bool await_suspend(std::coroutine_handle<> h) { return flag_->start_wait(h, this); }
        void await_resume();
        Awaiter(Awaiter&& other) noexcept : flag_(other.flag_) {}
        Awaiter& operator=(Awaiter&&) = delete;
        /// A frame destroyed while waiting (loop teardown) leaves no registration behind.
        ~Awaiter();

    private:
        friend class ThreadSafeFlag;
        ThreadSafeFlag* flag_;  // null once the flag was destroyed while this awaiter waited
        bool suspended_ = false;
        // The flag's list of awaiters suspended and not resumed yet (the waiter, and ones
        // already woken by set() or a cancel), so that ~ThreadSafeFlag can detach each.
        Awaiter* prev_ = nullptr;
        Awaiter* next_ = nullptr;
    };

    /// Waits until the flag is set, then clears it. Returns at once if it is set already.
    /// Throws RuntimeError if another task is already waiting on this flag.
    Awaiter wait() noexcept { return Awaiter(*this); }

private:
    friend class detail::ThreadWakeups;

    bool start_wait(std::coroutine_handle<> h, Awaiter* a);
    void finish_wait(Awaiter* a);
    void untrack(Awaiter* a) noexcept;
    void unregister() noexcept;

    std::atomic<bool> flag_{false};
    // The waiting loop's wake-up channel while a task waits (read by set() on any thread).
    std::atomic<detail::ThreadWakeups*> wakeups_{nullptr};
    // Loop-thread state: the one waiter, and the loop's list of flags with a waiter.
    detail::WaitQueue queue_;
    Awaiter* suspended_ = nullptr;  // see Awaiter::prev_
    ThreadSafeFlag* prev_ = nullptr;
    ThreadSafeFlag* next_ = nullptr;
};

}  // namespace asyncio
