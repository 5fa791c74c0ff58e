/// @file
/// sleep, sleep_ms (the seed's "Core functions").
///
///      co_await asyncio::sleep_ms(5);      // integer milliseconds (MicroPython extension)
///      co_await asyncio::sleep(0.25);      // seconds as a double
///      co_await asyncio::sleep(250ms);     // any std::chrono::duration
///
/// The deadline is fixed when sleep/sleep_ms is CALLED, not when it is awaited (as in
/// MicroPython). A zero or negative length yields: the task goes to the back of the run queue
/// and runs again after every task already runnable (round-robin). Sleepers wake in deadline
/// order; equal deadlines wake in the order they started sleeping. cancel() wakes a sleeper at
/// once with CancelledError. Unlike MicroPython, which counts in whole milliseconds and
/// truncates sleep(0.0009) to 0, sub-millisecond lengths are honoured (docs/differences.md).
/// Lengths too large to represent saturate to "forever".
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "asyncio/detail/scheduler.hpp"

namespace asyncio {

/// What sleep() and sleep_ms() return: await it once, in a task.
class [[nodiscard]] SleepAwaiter {
public:
    /// A sleep of `ns` nanoseconds from now (<= 0: a yield).
    static SleepAwaiter after_ns(std::int64_t ns) noexcept {
        if (ns <= 0) return SleepAwaiter(kYield);
        std::int64_t now = detail::loop_clock_ns();
        if (ns > std::numeric_limits<std::int64_t>::max() - now) {
            return SleepAwaiter(std::numeric_limits<std::int64_t>::max());
        }
        return SleepAwaiter(now + ns);
    }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const {
        detail::Scheduler& s = *detail::tls_scheduler;
        detail::TaskBase* t = s.current;
        t->resume_point = h;
        queue(s, t, deadline_);
    }
    void await_resume() const { detail::tls_scheduler->check_cancel(); }

    /// `co_await sleep_ms(n)` in a Coro: PromiseBase::await_transform calls begin_await(),
    /// which queues the task at once (in the run queue or the timer heap; nothing runs before
    /// the coroutine suspends), and awaits the empty Queued, which only records where to
    /// resume. g++ 12 keeps both the SleepAwaiter temporary and the awaiter of a co_await in
    /// the coroutine frame: an empty awaiter takes a byte of padding where AwaitRef took a
    /// word (docs/architecture.md, "Where every byte of a sleeping task goes").
    class Queued {
    public:
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) const noexcept { detail::tls_scheduler->current->resume_point = h; }
        void await_resume() const { detail::tls_scheduler->check_cancel(); }
    };
    /// Queues the current task as await_suspend would, before the suspension; see Queued.
    Queued begin_await() && {
        detail::Scheduler& s = *detail::tls_scheduler;
        queue(s, s.current, deadline_);
        return {};
    }

private:
    static constexpr std::int64_t kYield = std::numeric_limits<std::int64_t>::min();
    explicit SleepAwaiter(std::int64_t deadline) noexcept : deadline_(deadline) {}

    // By value, not through `this`: were the temporary's address to reach a call that is not
    // inlined, clang would keep the temporary in the coroutine frame.
    static void queue(detail::Scheduler& s, detail::TaskBase* t, std::int64_t deadline) {
        if (deadline == kYield) {
            s.push_ready(t);
        } else {
            s.push_timer(t, deadline);
        }
    }

    std::int64_t deadline_;  // absolute monotonic ns, or kYield
};

/// Sleeps for `ms` milliseconds (<= 0 yields).
inline SleepAwaiter sleep_ms(std::int64_t ms) noexcept {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 1'000'000;
    return SleepAwaiter::after_ns(ms > kMax ? std::numeric_limits<std::int64_t>::max() : ms * 1'000'000);
}
/// sleep_ms takes whole milliseconds, as in MicroPython; use sleep() for fractions.
template <class F>
    requires std::is_floating_point_v<F>
SleepAwaiter sleep_ms(F) = delete;

/// Sleeps for any std::chrono duration (<= 0 yields).
template <class Rep, class Period>
SleepAwaiter sleep(std::chrono::duration<Rep, Period> d) noexcept {
    using namespace std::chrono;
    if (d >= duration_cast<duration<Rep, Period>>(duration<double>(9.2e9))) {
        return SleepAwaiter::after_ns(std::numeric_limits<std::int64_t>::max());
    }
    return SleepAwaiter::after_ns(duration_cast<nanoseconds>(d).count());
}

/// Sleeps for `seconds` (a float, as in the seed; <= 0 or NaN yields).
inline SleepAwaiter sleep(double seconds) noexcept {
    if (!(seconds > 0)) return SleepAwaiter::after_ns(0);
    if (seconds >= 9.2e9) return SleepAwaiter::after_ns(std::numeric_limits<std::int64_t>::max());
    return SleepAwaiter::after_ns(static_cast<std::int64_t>(seconds * 1e9));
}

/// Sleeps for whole `seconds` (an exact match, so `sleep(1)` does not pick the POSIX function of that name
/// under `using namespace asyncio`).
template <class I>
    requires std::is_integral_v<I>
SleepAwaiter sleep(I seconds) noexcept {
    return sleep(static_cast<double>(seconds));
}

}  // namespace asyncio
