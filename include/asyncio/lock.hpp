/// @file
/// Lock (the seed's "class Lock"): a FIFO mutual-exclusion lock for tasks.
///
///      co_await lock.acquire();  ...  lock.release();        // as in the seed
///      { auto guard = co_await lock;  ... }                  // `async with lock:`
///
/// Hand-off is FIFO and there is no barging: release() reserves the lock for the oldest waiter,
/// and a task arriving before that waiter resumes queues behind it. While reserved, locked()
/// is false (as in MicroPython). A waiter cancelled after being handed the lock passes it on.
/// There is no owner: any task may release (as in MicroPython and CPython).
#pragma once

#include <coroutine>
#include <utility>

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/detail/task_base.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

class Lock;

/// Releases its lock when destroyed (scope exit, exception, cancellation). Move-only.
class [[nodiscard]] ASYNCIO_API LockGuard {
public:
    /// Adopts `lock`, which the caller holds.
    explicit LockGuard(Lock& lock) noexcept : lock_(&lock) {}
    /// Takes over `other`'s lock; `other` releases nothing.
    LockGuard(LockGuard&& other) noexcept : lock_(std::exchange(other.lock_, nullptr)) {}
    LockGuard& operator=(LockGuard&&) = delete;
    LockGuard(const LockGuard&) = delete;
    ~LockGuard();

private:
    Lock* lock_;
};

/// A mutual exclusion lock for tasks (the seed's Lock): FIFO hand-off, no barging.
class ASYNCIO_API Lock {
public:
    /// Locks start unlocked.
    Lock() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    /// Tasks still waiting (queued, or handed the lock but not resumed yet) are woken with
    /// CancelledError; they never touch the destroyed Lock.
    ~Lock();

    /// True while held (false while handed to a waiter that has not resumed yet).
    [[nodiscard]] bool locked() const noexcept { return state_ == State::Locked; }

    /// Releases the lock, handing it to the oldest waiter if any. Throws
    /// RuntimeError("Lock not acquired") if the lock is not held.
    void release();

    class [[nodiscard]] AcquireAwaiter {
    public:
        explicit AcquireAwaiter(Lock& l) noexcept : lock_(&l) {}
        bool await_ready() const noexcept { return lock_->try_take(); }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            self_ = detail::tls_scheduler->current;
            lock_->track(this);
            detail::tls_scheduler->park(h, lock_->waiters_);
        }
        void await_resume() {
            if (self_ != nullptr) finish();
        }
        // Movable before it is awaited (wait_for and gather take awaitables by value).
        AcquireAwaiter(AcquireAwaiter&& other) noexcept
            : lock_(other.lock_), self_(std::exchange(other.self_, nullptr)) {}
        AcquireAwaiter& operator=(AcquireAwaiter&&) = delete;
        /// A frame destroyed while waiting (loop teardown) gives back a lock handed to it.
        ~AcquireAwaiter() {
            if (self_ != nullptr && lock_ != nullptr) {
                lock_->untrack(this);
                lock_->abandon(self_);
            }
        }

    protected:
        friend class Lock;
        void finish();

        Lock* lock_;  // null once the Lock was destroyed while this awaiter was suspended
        detail::TaskBase* self_ = nullptr;  // set while suspended
        // The Lock's list of suspended awaiters, so that ~Lock can tell each one it is gone.
        AcquireAwaiter* prev_ = nullptr;
        AcquireAwaiter* next_ = nullptr;
    };

    class [[nodiscard]] GuardAwaiter : public AcquireAwaiter {
    public:
        using AcquireAwaiter::AcquireAwaiter;
        LockGuard await_resume() {
            AcquireAwaiter::await_resume();
            return LockGuard(*lock_);
        }
    };

    /// Waits for the lock and takes it; returns without suspending if it is free. Cancelling a
    /// waiter removes it from the queue (or passes on a lock already handed to it).
    AcquireAwaiter acquire() noexcept { return AcquireAwaiter(*this); }

    /// `auto guard = co_await lock;` acquires and returns an RAII guard.
    GuardAwaiter operator co_await() noexcept { return GuardAwaiter(*this); }

private:
    friend class LockGuard;
    enum class State : unsigned char { Unlocked, Locked, Reserved };

    bool try_take() noexcept {
        if (state_ != State::Unlocked) return false;
        state_ = State::Locked;
        return true;
    }
    void finish_wait(detail::TaskBase* self);
    void abandon(detail::TaskBase* self) noexcept;
    void hand_off() noexcept;
    void track(AcquireAwaiter* a) noexcept {
        a->prev_ = nullptr;
        a->next_ = suspended_;
        if (suspended_ != nullptr) suspended_->prev_ = a;
        suspended_ = a;
    }
    void untrack(AcquireAwaiter* a) noexcept {
        (a->prev_ != nullptr ? a->prev_->next_ : suspended_) = a->next_;
        if (a->next_ != nullptr) a->next_->prev_ = a->prev_;
        a->prev_ = a->next_ = nullptr;
    }

    State state_ = State::Unlocked;
    detail::TaskBase* reserved_for_ = nullptr;
    detail::WaitQueue waiters_;
    // Every awaiter suspended on this lock and not resumed yet: the queued ones, the one the
    // lock is reserved for, and cancelled ones still waiting for their turn to run.
    AcquireAwaiter* suspended_ = nullptr;
};

}  // namespace asyncio
