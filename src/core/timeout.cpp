// TimeoutScope: CPython's Timeout (Lib/asyncio/timeouts.py) on the loop's timer heap.
//
// States: Entered (timer armed) -> Expiring (deadline passed, task cancelled) -> Exited.
// The timer node is always in the heap while armed, never in the run queue (which cannot
// unlink an entry): a deadline already past is armed at "now" and fires on the next round,
// as CPython's call_soon would.
#include <cmath>
#include <stdexcept>

#include "asyncio/detail/cancel_scope.hpp"
#include "asyncio/loop.hpp"
#include "asyncio/timeout.hpp"

namespace asyncio::detail {

namespace {
TaskBase& running_task() {
    if (tls_scheduler == nullptr) raise_no_running_loop();
    return *tls_scheduler->running_task();
}
}  // namespace

TimeoutScope::TimeoutScope(std::int64_t deadline_ns)
    : task_(&running_task()), entry_cancelling_(cancelling(*task_)) {
    if (deadline_ns == kNoDeadline) return;
    Scheduler& s = *tls_scheduler;
    // A deadline already past fires before anything queued from now on (CPython's call_soon):
    // keyed at the round's time, it precedes the yield of an awaitable that suspends at once.
    if (deadline_ns > s.now && deadline_ns <= loop_clock_ns()) deadline_ns = s.now;
    s.push_timer(&timer_, deadline_ns);
}

void TimeoutScope::on_deadline(LoopCallback& timer) noexcept {
    TimeoutScope& self = *static_cast<Timer&>(timer).scope;
    self.state_ = State::Expiring;
    try {
        cancel_task(*self.task_);
    } catch (...) {
        // cancel_task refuses only the running task, and no task runs while a callback does.
    }
}

bool TimeoutScope::exit() noexcept {
    if (state_ == State::Exited) return false;
    Scheduler* s = tls_scheduler;
    if (s != nullptr && s->timers.contains(&timer_)) s->timers.remove(&timer_);
    bool expired = state_ == State::Expiring;
    state_ = State::Exited;
    if (expired) other_cancel_ = uncancel(*task_) > entry_cancelling_;
    return expired;
}

std::int64_t deadline_at(double when) {
    if (std::isnan(when)) throw std::invalid_argument("timeout_at: the deadline is NaN");
    double ns = when * 1e9;
    if (ns >= static_cast<double>(kNoDeadline)) return kNoDeadline - 1;
    if (ns <= 0) return 0;
    return static_cast<std::int64_t>(ns);
}

}  // namespace asyncio::detail
