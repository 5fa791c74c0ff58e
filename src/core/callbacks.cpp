// Callbacks on the loop: call_soon / call_later / call_at / call_soon_threadsafe, how a callback
// step runs, TimerHandle::cancel, and what arrives from other threads after a wake-up.
//
// A callback is a CallbackNode in the same run queue and timer heap as tasks (see
// detail/callback.hpp), so "soon" callbacks and task steps keep one FIFO order and timers one
// deadline order. Node states, as the loop sees them:
//   Coro (initial)  in the cross-thread inbox, or never scheduled
//   Ready           in the run queue (a cancelled one stays there and is skipped when popped)
//   Sleeping        in the timer heap (cancel() on the loop's thread removes it at once)
//   Running         its callable is executing
//   Done            ran or was dropped; only TimerHandles may still refer to it
#include <cmath>
#include <limits>
#include <stdexcept>

#include "asyncio/loop.hpp"
#include "core/fork.hpp"
#include "core/loop_access.hpp"
#include "core/loop_impl.hpp"

namespace asyncio {

namespace {

// Seconds -> nanoseconds on the loop's clock, saturating far beyond any real deadline.
std::int64_t seconds_to_ns(double s, const char* what) {
    if (std::isnan(s)) throw std::invalid_argument(std::string(what) + " must not be NaN");
    constexpr double kLimit = 9.0e9;  // ~285 years either way
    if (s >= kLimit) return std::numeric_limits<std::int64_t>::max();
    if (s <= -kLimit) return -static_cast<std::int64_t>(kLimit * 1e9);
    return static_cast<std::int64_t>(s * 1e9);
}

[[noreturn]] void wrong_thread() {
    throw RuntimeError("Non-thread-safe operation invoked on an event loop other than the current one");
}

}  // namespace

std::int64_t Loop::deadline_after(double delay) {
    std::int64_t d = seconds_to_ns(delay, "delay");
    std::int64_t now = detail::loop_clock_ns();  // virtual time included
    if (d > std::numeric_limits<std::int64_t>::max() - now) return std::numeric_limits<std::int64_t>::max();
    return now + d;
}

std::int64_t Loop::deadline_at(double when) { return seconds_to_ns(when, "when"); }

TimerHandle Loop::schedule_soon(detail::CallbackNode* c) {
    if (detail::tls_loop != this || closed_) [[unlikely]] {
        c->release();
        if (inherited_) check_open();
        if (detail::tls_loop != this) wrong_thread();
        check_open();
    }
    c->loop = this;
    c->add_ref();  // the handle's
    sched_.push_ready(c);
    return TimerHandle::adopt(c);
}

TimerHandle Loop::schedule_at(std::int64_t deadline_ns, detail::CallbackNode* c) {
    if (detail::tls_loop != this || closed_) [[unlikely]] {
        c->release();
        if (inherited_) check_open();
        if (detail::tls_loop != this) wrong_thread();
        check_open();
    }
    c->loop = this;
    try {
        sched_.push_timer(c, deadline_ns);
    } catch (...) {
        c->release();
        throw;
    }
    c->add_ref();
    return TimerHandle::adopt(c);
}

TimerHandle Loop::schedule_threadsafe(detail::CallbackNode* c) {
    if (detail::tls_loop == this) return schedule_soon(c);
    c->loop = this;
    c->add_ref();  // the handle's, taken before the loop can run and release its own
    if (!impl_->inbox.push(c)) {
        c->release();
        c->release();
        check_open();
        throw RuntimeError("Event loop is closed");
    }
    impl_->wakeups.notify();
    return TimerHandle::adopt(c);
}

void Loop::run_callback(detail::CallbackNode* c) {
    struct Done {
        detail::CallbackNode* c;
        ~Done() {
            c->state = detail::TaskState::Done;
            c->clear();
            c->release();  // the loop's reference
        }
    } done{c};
    if (c->is_cancelled()) return;
    c->state = detail::TaskState::Running;
    try {
        c->run();
    } catch (...) {
        ExceptionContext context{"Exception in callback", std::current_exception(), {}};
        call_exception_handler(context);
    }
}

void Loop::release_queued_callbacks() noexcept {
    sched_.drain_all([this](detail::TaskBase* t) {
        // Tasks are teardown's; the stop marker and the library's own LoopCallbacks (a
        // timeout's deadline, owned by its scope) are not ours to free.
        if (t == &stop_marker_ || !t->has(detail::TaskBase::kCallback)) return;
        if (static_cast<detail::LoopCallback*>(t)->fn != nullptr) return;
        auto* c = static_cast<detail::CallbackNode*>(t);
        c->state = detail::TaskState::Done;
        c->clear();
        c->release();
    });
}

void Loop::add_signal_handler(int sig, std::function<void()> f) {
    if (inherited_) check_open();
    if (detail::tls_loop != this) wrong_thread();
    check_open();
    impl_->signals.add(sig, std::move(f));
}

bool Loop::remove_signal_handler(int sig) {
    if (inherited_) check_open();  // the signal may belong to the child's own loop by now
    if (detail::tls_loop != this) wrong_thread();
    return impl_->signals.remove(sig);
}

void TimerHandle::cancel() noexcept {
    if (node_ == nullptr || !node_->mark_cancelled()) return;
    // Off the loop's thread only the mark is safe; the loop skips the node when it comes up.
    Loop* loop = node_->loop;
    if (loop == nullptr || detail::tls_loop != loop) return;
    switch (node_->state) {
    case detail::TaskState::Sleeping: {
        // Out of the heap now, so cancelled timers never pile up (nor wake the loop early).
        detail::TimerHeap& timers = detail::LoopInternals::scheduler(*loop).timers;
        if (!timers.contains(node_)) break;  // popped, about to run: the mark stops it
        timers.remove(node_);
        node_->state = detail::TaskState::Done;
        node_->clear();
        node_->release();  // the loop's reference
        break;
    }
    case detail::TaskState::Ready:
        node_->clear();  // stays queued; run_callback skips it
        break;
    default:  // in the inbox, running, or done: the mark is enough
        break;
    }
}

namespace detail {

std::size_t timer_count(Loop& loop) noexcept { return LoopInternals::scheduler(loop).timers.size(); }

void LoopInternals::take_foreign_work(Loop& loop) {
    Loop::Impl& impl = *loop.impl_;
    for (CallbackNode* c = impl.inbox.take(); c != nullptr;) {
        CallbackNode* next = c->inbox_next;
        c->inbox_next = nullptr;
        loop.sched_.push_ready(c);
        c = next;
    }
    if (!impl.signals.empty()) impl.signals.dispatch(loop);
}

}  // namespace detail

}  // namespace asyncio
