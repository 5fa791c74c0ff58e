/// @file
/// Condition: a condition variable for tasks (CPython's asyncio.Condition).
///
///      asyncio::Condition cond;                  // with its own Lock
///      asyncio::Condition shared(lock);          // or over a Lock it does not own
///      {
///       auto guard = co_await cond;           // `async with cond:`
///       co_await cond.wait_for([&] { return !items.empty(); });
///       ...
///      }
///      { auto guard = co_await cond;  items.push_back(x);  cond.notify(); }
///
/// wait() releases the lock, waits for a notify(), and takes the lock again before it returns,
/// also when the waiting task is cancelled (then CancelledError comes out once the lock is
/// held again, CPython's rule). Waiters are notified oldest first. Waiting or notifying without
/// holding the lock raises RuntimeError. Each wait() is a small coroutine (its frame comes from
/// the frame pool); the wait itself parks a node inside that frame. A Condition destroyed while
/// tasks wait on it wakes them with CancelledError (without the lock: there is no wait left to
/// finish).
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/wait_list.hpp"
#include "asyncio/export.hpp"
#include "asyncio/lock.hpp"

namespace asyncio {

/// A condition variable for tasks (CPython's asyncio.Condition) over its own or a shared Lock.
class ASYNCIO_API Condition {
public:
    /// A condition with its own lock.
    Condition() noexcept : lock_(&own_lock_) {}
    /// A condition over `lock`, which must outlive it (several conditions may share a lock).
    explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;
    /// Tasks still waiting are woken with CancelledError.
    ~Condition();

    /// The underlying lock's acquire(), release(), locked() and guard.
    Lock::AcquireAwaiter acquire() noexcept { return lock_->acquire(); }
    /// Releases the underlying lock (RuntimeError if it is not held).
    void release() { lock_->release(); }
    /// True while the underlying lock is held.
    [[nodiscard]] bool locked() const noexcept { return lock_->locked(); }
    /// `auto guard = co_await cond;` takes the underlying lock until the guard's scope ends.
    Lock::GuardAwaiter operator co_await() noexcept { return lock_->operator co_await(); }

    /// Releases the lock, waits until notified, re-acquires the lock; gives true. Throws
    /// RuntimeError("cannot wait on un-acquired lock") if the lock is not held.
    Coro<bool> wait();

    /// Waits until `predicate()` is truthy (checked first, then after each wake-up, always
    /// with the lock held) and gives its last value. `predicate` is taken by value.
    template <class Predicate>
    Coro<std::decay_t<std::invoke_result_t<Predicate&>>> wait_for(Predicate predicate) {
        auto result = predicate();
        while (!result) {
            co_await wait();
            result = predicate();
        }
        co_return result;
    }

    /// Wakes up to `n` waiting tasks, oldest first. Throws RuntimeError("cannot notify on
    /// un-acquired lock") if the lock is not held.
    void notify(std::size_t n = 1);
    /// Wakes every waiting task.
    void notify_all();

private:
    class NotifyAwaiter;
    void wake(std::size_t n) noexcept;

    Lock own_lock_;
    Lock* lock_;
    detail::WaitList waiters_;
};

}  // namespace asyncio
