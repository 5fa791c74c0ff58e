/// @file
/// Semaphore, BoundedSemaphore: a counter of permits for tasks (CPython's asyncio.Semaphore).
///
///      asyncio::Semaphore sem(10);             // at most 10 holders at once
///      co_await sem.acquire();  ...  sem.release();
///      { auto guard = co_await sem;  ... }     // `async with sem:`
///
/// Fair: waiters get permits first come, first served. release() with tasks waiting hands the
/// permit to the oldest one, and a task arriving before that one runs waits behind it (no
/// barging, as CPython since 3.11.1). A waiter cancelled after being handed a permit passes it
/// on, so the count stays right. Waiting allocates nothing. Use from the loop's thread only;
/// a semaphore destroyed while tasks wait on it wakes them with CancelledError.
#pragma once

#include <coroutine>
#include <cstdint>
#include <utility>

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/detail/wait_list.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

class Semaphore;

/// Gives its permit back when destroyed (scope exit, exception, cancellation). Move-only.
class [[nodiscard]] ASYNCIO_API SemaphoreGuard {
public:
    /// Adopts a permit of `sem` the caller holds.
    explicit SemaphoreGuard(Semaphore& sem) noexcept : sem_(&sem) {}
    /// Takes over `other`'s permit; `other` releases nothing.
    SemaphoreGuard(SemaphoreGuard&& other) noexcept : sem_(std::exchange(other.sem_, nullptr)) {}
    SemaphoreGuard& operator=(SemaphoreGuard&&) = delete;
    SemaphoreGuard(const SemaphoreGuard&) = delete;
    ~SemaphoreGuard();

private:
    Semaphore* sem_;
};

/// A counting semaphore for tasks (CPython's asyncio.Semaphore): FIFO hand-off.
class ASYNCIO_API Semaphore {
public:
    /// `value` permits (default 1). Negative: std::invalid_argument.
    explicit Semaphore(std::int64_t value = 1);
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    /// Tasks still waiting are woken with CancelledError.
    ~Semaphore();

    /// True if acquire() would wait: no permit is free, or earlier tasks are still waiting
    /// (or have been handed a permit and not run yet).
    [[nodiscard]] bool locked() const noexcept {
        return value_ == 0 || waiters_.woken() != 0 || waiters_.has_parked();
    }

    /// Gives a permit back, handing it to the oldest waiter if any. A BoundedSemaphore
    /// throws std::invalid_argument("BoundedSemaphore released too many times") if that
    /// would exceed its initial value.
    void release();

    class [[nodiscard]] AcquireAwaiter {
    public:
        explicit AcquireAwaiter(Semaphore& s) noexcept : sem_(&s) {}
        // Movable before it is awaited (wait_for and gather take awaitables by value).
        AcquireAwaiter(AcquireAwaiter&& o) noexcept : sem_(o.sem_) {}
        AcquireAwaiter& operator=(AcquireAwaiter&&) = delete;
        /// A frame destroyed while waiting (loop teardown) passes on a permit handed to it.
        ~AcquireAwaiter() {
            if (node_.linked()) sem_->leave(node_);
        }

        bool await_ready() const noexcept { return sem_->try_take(); }
        void await_suspend(std::coroutine_handle<> h) noexcept { sem_->waiters_.park(node_, h); }
        /// True, as CPython's acquire() returns True.
        bool await_resume() {
            if (node_.state != detail::WaitNode::State::Idle) finish();
            return true;
        }

    protected:
        void finish() {
            if (node_.state == detail::WaitNode::State::Abandoned) {
                node_.state = detail::WaitNode::State::Idle;  // the semaphore is gone
                detail::raise_cancelled(detail::tls_scheduler->current);
            }
            sem_->finish_wait(node_);
        }
        Semaphore* sem_;
        detail::WaitNode node_;
    };

    class [[nodiscard]] GuardAwaiter : public AcquireAwaiter {
    public:
        using AcquireAwaiter::AcquireAwaiter;
        SemaphoreGuard await_resume() {
            AcquireAwaiter::await_resume();
            return SemaphoreGuard(*sem_);
        }
    };

    /// Takes a permit, waiting for one if needed. Cancelling a waiter removes it from the
    /// queue (or passes on a permit already handed to it).
    AcquireAwaiter acquire() noexcept { return AcquireAwaiter(*this); }

    /// `auto guard = co_await sem;` acquires and returns an RAII guard.
    GuardAwaiter operator co_await() noexcept { return GuardAwaiter(*this); }

protected:
    /// @private
    Semaphore(std::int64_t value, std::int64_t bound);

private:
    friend class SemaphoreGuard;
    static constexpr std::uint8_t kHandOff = 1;

    bool try_take() noexcept {
        if (locked()) return false;
        --value_;
        return true;
    }
    void give_back() noexcept;
    void finish_wait(detail::WaitNode& n);
    void leave(detail::WaitNode& n) noexcept;
    void wake_while_free() noexcept;

    std::int64_t value_;
    std::int64_t bound_;  // the most value_ may reach; -1: no bound (plain Semaphore)
    mutable detail::WaitList waiters_;
};

/// A Semaphore that refuses to be released above its initial value (CPython's
/// asyncio.BoundedSemaphore).
class ASYNCIO_API BoundedSemaphore : public Semaphore {
public:
    /// Starts with `value` permits and refuses to be released above it.
    explicit BoundedSemaphore(std::int64_t value = 1);
};

}  // namespace asyncio
