/// @file
/// timeout, timeout_at, shield (CPython's asyncio.timeout(), timeout_at(), shield()).
///
///      std::string page = co_await asyncio::timeout(2.0, fetch(url));   // seconds (double)
///      co_await asyncio::timeout(250ms, ev.wait());                     // any std::chrono duration
///      co_await asyncio::timeout_at(loop.time() + 5, job());            // a Loop::time() value
///      co_await asyncio::timeout(std::nullopt, job());                  // no limit
///      co_await asyncio::shield(save(record));                          // survives our cancel
///
/// timeout(delay, aw) is CPython's `async with asyncio.timeout(delay): await aw`. Unlike
/// wait_for, `aw` runs INLINE in the awaiting task: a Coro is not made a task, a Task or a
/// library awaitable (Event::wait(), Lock::acquire(), sleep ...) is awaited where it stands.
/// The deadline is fixed when timeout()/timeout_at() is CALLED (as sleep's). When it passes, the
/// awaiting task is cancelled wherever `aw` is suspended (so a Task it awaits is cancelled too,
/// as in CPython); once the CancelledError has unwound out of `aw`, timeout throws
/// TimeoutError instead. A deadline already past lets `aw` run until its first suspension.
///
/// Which level times out: each timeout counts the cancel it made (CPython's cancelling() /
/// uncancel()). Of nested timeouts, the innermost whose deadline passed reports TimeoutError and
/// the outer ones see that exception (an outer one that expired at the same time reports its
/// own TimeoutError instead, the inner one letting the CancelledError through). A cancel from
/// outside (Task::cancel(), a task group, wait_for) always stays CancelledError, even when a
/// deadline passed in the same step. If `aw` catches the CancelledError and returns normally,
/// timeout returns its value (as CPython).
///
/// shield(aw): `aw` is made a task (a Task is used as it is) and awaited WITHOUT forwarding a
/// cancel to it: cancelling the awaiting task raises CancelledError in it at once, while the
/// shielded task keeps running (its exception, if nobody awaits it, goes to the exception
/// handler). If the shielded task is cancelled by someone else, shield raises CancelledError.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/promote.hpp"
#include "asyncio/detail/scheduler.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/export.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

namespace detail {

inline constexpr std::int64_t kNoDeadline = std::numeric_limits<std::int64_t>::max();

/// CPython's Timeout context manager, entered on construction in the running task and left by
/// exit_cancelled() or the destructor. Lives in the timeout coroutine's frame; its timer node
/// sits in the loop's timer heap while armed.
class ASYNCIO_API TimeoutScope {
public:
    /// Enters the scope in the running task; `deadline_ns` on the loop's clock (kNoDeadline:
    /// none). Throws RuntimeError outside a task.
    explicit TimeoutScope(std::int64_t deadline_ns);
    TimeoutScope(const TimeoutScope&) = delete;
    TimeoutScope& operator=(const TimeoutScope&) = delete;
    ~TimeoutScope() { exit(); }

    /// Leaves the scope while a CancelledError unwinds from `aw`: true if it is this scope's own
    /// cancel (the caller then throws TimeoutError), false if it must keep propagating.
    bool exit_cancelled() noexcept { return exit() && !other_cancel_; }

private:
    enum class State : std::uint8_t { Entered, Expiring, Exited };
    struct Timer : LoopCallback {
        explicit Timer(TimeoutScope* s) noexcept : LoopCallback(&on_deadline), scope(s) {}
        TimeoutScope* scope;
    };
    static void on_deadline(LoopCallback& timer) noexcept;
    /// Disarms the timer and takes back this scope's cancel; true if the deadline had passed.
    bool exit() noexcept;

    Timer timer_{this};
    TaskBase* task_;
    std::uint32_t entry_cancelling_;
    State state_ = State::Entered;
    bool other_cancel_ = false;  // requests remain after ours was taken back
};

template <class A>
Coro<await_result_t<A>> run_with_deadline(A aw, std::int64_t deadline_ns) {
    TimeoutScope scope(deadline_ns);
    try {
        co_return co_await std::move(aw);
    } catch (const CancelledError&) {
        if (scope.exit_cancelled()) throw TimeoutError();
        throw;
    }
}

/// `now + delay` on the loop's clock, saturating; a delay <= 0 (or NaN) is "now".
inline std::int64_t deadline_in(double seconds) noexcept {
    std::int64_t now = loop_clock_ns();
    if (!(seconds > 0)) return now;
    double ns = seconds * 1e9;
    if (ns >= static_cast<double>(kNoDeadline - now)) return kNoDeadline - 1;
    return now + static_cast<std::int64_t>(ns);
}

/// A Loop::time() value (seconds) as the loop's clock in ns, saturating.
ASYNCIO_API std::int64_t deadline_at(double when);

/// Waits until `target` finishes without linking the awaiting task to it, so that cancelling
/// the awaiting task does not reach the target (shield). Parks in its own queue.
class DetachedTaskWait : public TaskWaiter {
public:
    explicit DetachedTaskWait(TaskBase* target) noexcept : TaskWaiter(&on_done), target_(target) {}
    bool await_ready() const noexcept { return target_->done(); }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        tls_scheduler->park(h, parked_);
        link(*target_, tls_scheduler->current);
    }
    void await_resume() {
        unlink();
        tls_scheduler->check_cancel();
    }

private:
    static void on_done(TaskWaiter& w) noexcept {
        tls_scheduler->wake_all(static_cast<DetachedTaskWait&>(w).parked_);
    }
    TaskBase* target_;
    WaitQueue parked_;
};

template <class A>
Coro<await_result_t<A>> shield_task(A aw) {
    Task<await_result_t<A>> inner = promote(std::move(aw));
    co_await DetachedTaskWait(inner.base());
    co_return co_await inner;  // finished: gives its value or rethrows, without suspending
}

}  // namespace detail

/// Awaits `aw` inline; TimeoutError if it is still running `seconds` from now. See the top of
/// this header.
template <class A>
Coro<detail::await_result_t<A>> timeout(double seconds, A aw) {
    return detail::run_with_deadline(std::move(aw), detail::deadline_in(seconds));
}

/// Awaits `aw` inline for at most `delay` (any std::chrono duration).
template <class A, class Rep, class Period>
Coro<detail::await_result_t<A>> timeout(std::chrono::duration<Rep, Period> delay, A aw) {
    return detail::run_with_deadline(std::move(aw),
                                     detail::deadline_in(std::chrono::duration<double>(delay).count()));
}

/// Awaits `aw` inline without a time limit (CPython's timeout(None)).
template <class A>
Coro<detail::await_result_t<A>> timeout(std::nullopt_t, A aw) {
    return detail::run_with_deadline(std::move(aw), detail::kNoDeadline);
}

/// Awaits `aw` inline until `when`, a Loop::time() value in seconds; a time already past lets
/// `aw` run until it first suspends. NaN: std::invalid_argument.
template <class A>
Coro<detail::await_result_t<A>> timeout_at(double when, A aw) {
    return detail::run_with_deadline(std::move(aw), detail::deadline_at(when));
}

/// Awaits `aw` inline until `when` on std::chrono::steady_clock (the loop's real clock).
template <class A, class Duration>
Coro<detail::await_result_t<A>> timeout_at(std::chrono::time_point<std::chrono::steady_clock, Duration> when,
                                           A aw) {
    return detail::run_with_deadline(
        std::move(aw),
        detail::deadline_at(std::chrono::duration<double>(when.time_since_epoch()).count()));
}

/// Awaits `aw` inline without a deadline (CPython's timeout_at(None)).
template <class A>
Coro<detail::await_result_t<A>> timeout_at(std::nullopt_t, A aw) {
    return detail::run_with_deadline(std::move(aw), detail::kNoDeadline);
}

/// Awaits `aw` (made a task) so that cancelling the awaiting task does not cancel it.
template <class A>
Coro<detail::await_result_t<A>> shield(A aw) {
    return detail::shield_task(std::move(aw));
}

}  // namespace asyncio
