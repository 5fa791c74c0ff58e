/// @file
/// wait_for, wait_for_ms (the seed's "Additional functions").
///
///      int v = co_await asyncio::wait_for(fetch(), 0.5);        // seconds (double)
///      co_await asyncio::wait_for(ev.wait(), 250ms);            // any std::chrono duration
///      co_await asyncio::wait_for_ms(lock.acquire(), 100);      // integer milliseconds
///      co_await asyncio::wait_for(task, std::nullopt);          // no limit
///
/// `aw` is promoted to a task when the wait_for is first awaited (a Task is used as it is).
/// If it finishes first, its value is returned or its exception propagated. On timeout the task
/// is cancelled and awaited (wait_for returns only once it has really ended, even if it catches
/// the CancelledError), then TimeoutError is raised. If the wait_for itself is cancelled, the
/// task is cancelled too and CancelledError propagates at once. A timeout <= 0 gives `aw`
/// exactly its first step: it succeeds only if `aw` completes without suspending (MicroPython).
/// A task that has already finished gives its outcome whatever the timeout.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <limits>
#include <optional>

#include "asyncio/coro.hpp"
#include "asyncio/detail/promote.hpp"
#include "asyncio/detail/scheduler.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

namespace detail {

/// Sleeps until `deadline` (kYield: just yields) or until `target` finishes, whichever comes
/// first; gives true if the target finished.
class TimedTaskWait : public TaskWaiter {
public:
    static constexpr std::int64_t kYield = std::numeric_limits<std::int64_t>::min();

    TimedTaskWait(TaskBase* target, std::int64_t deadline) noexcept
        : TaskWaiter(&on_done), target_(target), deadline_(deadline) {}

    bool await_ready() const noexcept { return target_->done(); }
    void await_suspend(std::coroutine_handle<> h) {
        Scheduler& s = *tls_scheduler;
        self_ = s.current;
        self_->resume_point = h;
        link(*target_, self_);
        if (deadline_ == kYield) {
            s.push_ready(self_);
        } else {
            s.push_timer(self_, deadline_);
        }
    }
    bool await_resume() const {
        tls_scheduler->check_cancel();
        return target_->done();
    }

private:
    static void on_done(TaskWaiter& w) noexcept {
        auto& self = static_cast<TimedTaskWait&>(w);
        if (self.self_->state == TaskState::Sleeping) {  // still in its timed sleep: wake it now
            Scheduler& s = *tls_scheduler;
            s.timers.remove(self.self_);
            s.push_ready(self.self_);
        }
    }

    TaskBase* target_;
    std::int64_t deadline_;
    TaskBase* self_ = nullptr;
};

inline std::int64_t deadline_after(std::int64_t ns) noexcept {
    if (ns <= 0) return TimedTaskWait::kYield;
    std::int64_t now = loop_clock_ns();
    if (ns > std::numeric_limits<std::int64_t>::max() - now) return std::numeric_limits<std::int64_t>::max();
    return now + ns;
}

/// The body of every wait_for form; `timeout_ns` empty means no limit.
template <class A>
Coro<await_result_t<A>> wait_for_ns(A aw, std::optional<std::int64_t> timeout_ns) {
    Task<await_result_t<A>> task = promote(std::move(aw));
    if (timeout_ns) {
        bool finished;
        try {
            finished = co_await TimedTaskWait(task.base(), deadline_after(*timeout_ns));
        } catch (const CancelledError&) {
            task.cancel();  // cancelled from outside: cancel aw too, re-raise without waiting
            throw;
        }
        if (!finished) {
            task.cancel();
            try {
                co_await Task<>(task);  // wait until it has really ended
            } catch (...) {
            }
            throw TimeoutError();
        }
    }
    co_return co_await task;
}

inline std::optional<std::int64_t> seconds_to_ns(double seconds) noexcept {
    if (!(seconds > 0)) return 0;
    if (seconds >= 9.2e9) return std::numeric_limits<std::int64_t>::max();
    return static_cast<std::int64_t>(seconds * 1e9);
}

}  // namespace detail

/// Awaits `aw` for at most `seconds`; see the top of this header.
template <class A>
Coro<detail::await_result_t<A>> wait_for(A aw, double seconds) {
    return detail::wait_for_ns(std::move(aw), detail::seconds_to_ns(seconds));
}

/// Awaits `aw` for at most `timeout`.
template <class A, class Rep, class Period>
Coro<detail::await_result_t<A>> wait_for(A aw, std::chrono::duration<Rep, Period> timeout) {
    return detail::wait_for_ns(std::move(aw),
                               detail::seconds_to_ns(std::chrono::duration<double>(timeout).count()));
}

/// Awaits `aw` without a time limit.
template <class A>
Coro<detail::await_result_t<A>> wait_for(A aw, std::nullopt_t) {
    return detail::wait_for_ns(std::move(aw), std::nullopt);
}

/// Awaits `aw` for at most `ms` milliseconds (MicroPython extension).
template <class A>
Coro<detail::await_result_t<A>> wait_for_ms(A aw, std::int64_t ms) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 1'000'000;
    return detail::wait_for_ns(std::move(aw),
                               ms > kMax ? std::numeric_limits<std::int64_t>::max() : ms * 1'000'000);
}

}  // namespace asyncio
