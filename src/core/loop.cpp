// The run loop: one round = refresh the clock, run every task due (up to a budget), then, if
// nothing is runnable, sleep in the poller until the next deadline. docs/architecture.md
// describes the same steps in the same order.
//
// Also here: the per-thread loop, stop(), close()/new_event_loop() teardown, and the loop's
// clock: monotonic time plus Scheduler::clock_offset, which only virtual time ever raises.
#include "asyncio/loop.hpp"

#include <limits>
#include <memory>

#include "core/fork.hpp"
#include "core/loop_access.hpp"
#include "core/loop_impl.hpp"
#include "io/io_handle.hpp"
#include "thread/spin.hpp"

namespace asyncio {

namespace {

thread_local std::unique_ptr<Loop> tls_loop_owner;

// Steps run between two clock reads. A timer that expires mid-round waits at most this many
// steps (a few microseconds); a larger budget saves clock reads only (PERFORMANCE.md T4).
constexpr int kStepsPerRound = 128;

// Deadlines from here on are "never" (sleep, wait_for, timeout and wait saturate to just
// below INT64_MAX): virtual time does not jump to them.
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max() / 2;

}  // namespace

namespace detail {

thread_local constinit Loop* tls_loop = nullptr;

ThreadWakeups& this_thread_wakeups() { return get_event_loop().impl_->wakeups; }

void io_watch(IoHandle& h) {
    Loop& loop = get_event_loop();
    if (loop.inherited_) [[unlikely]] raise_inherited_loop();
    loop.impl_->poller.watch(h.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                         reinterpret_cast<std::uint64_t>(&h));
    h.watched = true;
}

void io_unwatch(IoHandle& h) noexcept {
    if (h.watched) {
        if (tls_loop != nullptr) tls_loop->impl_->poller.unwatch(h.fd);
        h.watched = false;
    }
    if (tls_scheduler != nullptr) {
        tls_scheduler->wake_all(h.readers);
        tls_scheduler->wake_all(h.writers);
    }
}

}  // namespace detail

Loop& get_event_loop() {
    if (detail::tls_loop == nullptr) {
        tls_loop_owner.reset(new Loop());
        detail::tls_loop = tls_loop_owner.get();
    }
    return *detail::tls_loop;
}

Loop& new_event_loop() {
    Loop& loop = get_event_loop();
    if (loop.is_running()) throw RuntimeError("can't reset a running event loop");
    loop.teardown();
    loop.closed_ = false;
    loop.impl_->inbox.reopen();
    loop.virtual_time_ = false;  // the clock keeps its offset: time() never goes back
    return loop;
}

Loop::Loop() : impl_(std::make_unique<Impl>()) {
    stop_marker_.flags = detail::TaskBase::kCallback;  // step() handles it out of line
    sched_.now = clock_ns();
    detail::register_loop(this);
    detail::tls_scheduler = &sched_;
}

Loop::~Loop() {
    detail::unregister_loop(this);
    impl_->inbox.close();
    teardown();
    if (detail::tls_scheduler == &sched_) detail::tls_scheduler = nullptr;
    if (detail::tls_loop == this) detail::tls_loop = nullptr;
}

std::int64_t Loop::clock_ns() const noexcept { return detail::monotonic_ns() + sched_.clock_offset; }

double Loop::time() const noexcept { return static_cast<double>(clock_ns()) * 1e-9; }

std::string_view Loop::backend() const noexcept {
    return impl_->poller.backend() == detail::PollerBackend::IoUring ? "io_uring" : "epoll";
}

void Loop::check_open() const {
    if (closed_) {
        if (inherited_) detail::raise_inherited_loop();
        throw RuntimeError("Event loop is closed");
    }
}

void Loop::run_until_done(detail::TaskBase& main) {
    if (!main.done()) run(&main);
}

void Loop::run_forever() {
    bool saved = in_run_forever_;
    in_run_forever_ = true;
    struct Restore {
        Loop& loop;
        bool saved;
        ~Restore() { loop.in_run_forever_ = saved; }
    } restore{*this, saved};
    run(nullptr);
}

void Loop::stop() noexcept {
    if (!in_run_forever_ || stop_marker_queued_) return;
    stop_marker_queued_ = true;
    sched_.push_ready(&stop_marker_);
}

void Loop::run(detail::TaskBase* main) {
    check_open();
    // Nested runs (run() called from a task) save and restore the outer run's state.
    struct Restore {
        Loop& loop;
        detail::TaskBase* current;
        detail::TaskBase* main;
        bool stopping;
        ~Restore() {
            loop.sched_.current = current;
            loop.main_ = main;
            loop.stopping_ = stopping || loop.inherited_;  // an outer run stops too
            if (--loop.depth_ == 0 && loop.inherited_) [[unlikely]] {
                // fork() was called from one of this loop's tasks, and this is the child's
                // copy: now that its run has unwound, the thread is free for a fresh loop.
                if (detail::tls_loop == &loop) {
                    detail::tls_loop = nullptr;
                    detail::tls_scheduler = nullptr;
                }
            }
        }
    } restore{*this, sched_.current, main_, stopping_};
    ++depth_;
    main_ = main;
    stopping_ = false;
    sched_.current = nullptr;

    for (;;) {
        // 1. One clock read per round: "now" pushes of this round all get this key.
        sched_.now = clock_ns();
        // Cross-thread wake-ups: ThreadSafeFlags, threadsafe callbacks, to_thread results, signals.
        if (impl_->wakeups.poll(sched_)) [[unlikely]] detail::LoopInternals::take_foreign_work(*this);
        // 2. Run what is due, oldest (key, seq) first: the FIFO and expired timers merged.
        int budget = kStepsPerRound;
        while (detail::TaskBase* t = sched_.pop_due()) {
            step(t);
            if (stopping_ || (main != nullptr && main->done())) {
                // fork() was called in that step and this is the child's copy of the loop.
                if (inherited_) [[unlikely]] detail::raise_inherited_loop();
                return;
            }
            if (--budget == 0) break;
        }
        if (budget == 0) {
            // Busy: still look at I/O once per round, without blocking (PERFORMANCE.md T3).
            if (impl_->poller.watched() > 0) poll_io(0);
            continue;
        }
        // 3. Nothing runnable: sleep in the kernel until the next deadline, an I/O event or a
        //    cross-thread wake-up.
        std::int64_t timeout = -1;
        if (!sched_.timers.empty()) {
            timeout = sched_.timers.top()->key - clock_ns();
            if (timeout < 0) timeout = 0;
            // (A saturated "forever" deadline is never jumped to: it stays forever.)
            if (virtual_time_ && timeout > 0 && sched_.timers.top()->key < kNever) {
                // Virtual time: look at I/O without blocking; if nothing became runnable and
                // no other thread has signalled, jump the clock to the deadline instead.
                if (impl_->poller.watched() > 0) poll_io(0);
                if (sched_.ready_empty() && !impl_->wakeups.pending()) sched_.clock_offset += timeout;
                continue;
            }
        }
        if (timeout == 0) {
            if (impl_->poller.watched() > 0) poll_io(0);
            continue;
        }
        sleep_in_poller(timeout);
    }
}

void Loop::sleep_in_poller(std::int64_t timeout_ns) {
    detail::ThreadWakeups& w = impl_->wakeups;
    // A to_thread call went out since the last spin: its result may be a few hundred ns away
    // (a short call), so look for it briefly before paying for a sleep and a wake-up. Once per
    // batch of calls, bounded and adaptive (thread/spin.hpp): long calls soon cost only a few us.
    // Never past the next timer, and briefer while fds are watched (their events wait meanwhile).
    if (std::uint64_t calls = impl_->pool.submitted(); calls != impl_->spun_for_calls) [[unlikely]] {
        impl_->spun_for_calls = calls;
        std::int64_t cap = impl_->poller.watched() > 0 ? detail::kMaxSpinWithIoNs : detail::kMaxSpinNs;
        if (timeout_ns >= 0 && timeout_ns < cap) cap = timeout_ns;
        impl_->result_spin.spin([&w] { return w.pending(); }, cap);
        return;  // either way: the next round takes the result or recomputes its timeout
    }
    // Another thread's wake-up writes the eventfd only while this flag is up (thread_wakeups.hpp).
    if (!w.begin_sleep()) return;  // one arrived meanwhile: take it in the next round
    struct EndSleep {
        detail::ThreadWakeups& w;
        ~EndSleep() { w.end_sleep(); }
    } end{w};
    poll_io(timeout_ns);
}

void Loop::poll_io(std::int64_t timeout_ns) {
    if (inherited_) [[unlikely]] detail::raise_inherited_loop();
    detail::Scheduler& s = sched_;
    impl_->poller.wait(timeout_ns, [&s](std::uint64_t token, std::uint32_t events) {
        auto* h = reinterpret_cast<detail::IoHandle*>(token);
        if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) h->hangup = true;
        if ((events & (EPOLLHUP | EPOLLERR)) != 0) h->broken = true;
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            h->readable = true;
            s.wake_all(h->readers);
        }
        if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
            h->writable = true;
            s.wake_all(h->writers);
        }
    });
}

void Loop::step(detail::TaskBase* t) {
    using detail::TaskBase;
    // One test sends the rare entries (callbacks, the stop marker, a late exception report)
    // out of line; what remains is resuming a coroutine.
    if ((t->flags & (TaskBase::kCallback | TaskBase::kReportPending)) != 0) [[unlikely]] {
        step_special(t);
        return;
    }
    t->state = detail::TaskState::Running;
    sched_.current = t;
    if (!t->has(TaskBase::kStarted)) {
        t->flags |= TaskBase::kStarted;
        if (t->has(TaskBase::kCancelPending)) {
            // Cancelled before its first run: the body never executes (SEMANTICS.md 4.2).
            t->flags &= static_cast<std::uint8_t>(~TaskBase::kCancelPending);
            t->exception = std::make_exception_ptr(CancelledError{});
            detail::task_finished(*t);
        } else {
            t->resume_point.resume();
        }
    } else {
        t->resume_point.resume();
    }
    sched_.current = nullptr;
    if (t->done() && !t->has(TaskBase::kReportPending)) release_loop_ref(*t);
}

void Loop::step_special(detail::TaskBase* t) {
    if (t == &stop_marker_) {
        stop_marker_queued_ = false;
        if (in_run_forever_) stopping_ = true;
    } else if (t->has(detail::TaskBase::kCallback)) {
        auto* cb = static_cast<detail::LoopCallback*>(t);
        if (cb->fn != nullptr) {
            t->state = detail::TaskState::Coro;  // the library's own (a timeout's deadline)
            cb->fn(*cb);
        } else {
            run_callback(static_cast<detail::CallbackNode*>(cb));  // call_soon & co.
        }
    } else {
        report_unretrieved(t);
    }
}

void Loop::report_unretrieved(detail::TaskBase* t) {
    t->flags &= static_cast<std::uint8_t>(~detail::TaskBase::kReportPending);
    struct Release {
        Loop& loop;
        detail::TaskBase& t;
        ~Release() {
            loop.sched_.current = nullptr;
            loop.release_loop_ref(t);
        }
    } release{*this, *t};
    if (t->has(detail::TaskBase::kAwaited)) return;  // someone retrieved it in the meantime
    ++t->refs;
    ExceptionContext context{"Task exception wasn't retrieved", t->exception, Task<>::adopt(t)};
    sched_.current = t;  // as in MicroPython, current_task() is the failed task here
    call_exception_handler(context);
}

void Loop::unlink(detail::TaskBase& t) noexcept {
    (t.all_prev != nullptr ? t.all_prev->all_next : all_) = t.all_next;
    if (t.all_next != nullptr) t.all_next->all_prev = t.all_prev;
    t.all_next = t.all_prev = nullptr;
    --live_tasks_;
}

void Loop::release_loop_ref(detail::TaskBase& t) noexcept {
    t.flags &= static_cast<std::uint8_t>(~detail::TaskBase::kLoopRef);
    unlink(t);
    detail::drop_ref(&t);
}

void Loop::teardown() noexcept {
    using detail::TaskBase;
    using detail::TaskState;
    tearing_down_ = true;
    // Threads first: after this no worker posts a result and no signal handler points here.
    impl_->pool.shutdown();
    impl_->signals.remove_all();
    impl_->inbox.discard();
    // Pass 1: unlink every task from whatever it waits on and mark it finished-cancelled, so
    // that destructors run in pass 2 (a lock guard releasing, an event being set) find no
    // waiter to wake.
    for (TaskBase* t = all_; t != nullptr; t = t->all_next) {
        if (t->state == TaskState::Waiting) static_cast<detail::WaitQueue*>(t->wait_target)->remove(t);
        t->waiters.clear();  // the waiting tasks are all being torn down too
        if (!t->done()) {
            t->state = TaskState::Done;
            t->flags |= TaskBase::kCancelled | TaskBase::kStarted;
            t->exception = std::make_exception_ptr(CancelledError{});
        }
        t->flags &= static_cast<std::uint8_t>(~TaskBase::kReportPending);
    }
    release_queued_callbacks();
    sched_.clear_queues();
    stop_marker_queued_ = false;
    // Pass 2: drop the loop's references; frames no Task handle refers to are destroyed now.
    while (all_ != nullptr) release_loop_ref(*all_);
    // Children still running are killed and reaped (no zombie outlives the loop's watch).
    impl_->children.close_all();
    release_queued_callbacks();  // anything a destructor scheduled
    sched_.clear_queues();
    impl_->inbox.discard();
    tearing_down_ = false;
}

void Loop::close() {
    if (inherited_) return;  // nothing of a loop inherited across fork() may be touched
    if (is_running()) throw RuntimeError("can't close a running event loop");
    impl_->inbox.close();  // call_soon_threadsafe from now on: RuntimeError
    teardown();
    closed_ = true;
}

namespace detail {

void LoopInternals::abandon_after_fork(Loop& loop) noexcept {
    loop.inherited_ = true;
    loop.closed_ = true;
    loop.impl_->poller.forget_after_fork();
    loop.impl_->inbox.abandon();
    // A run of this loop in progress (fork() was called from one of its tasks or callbacks)
    // raises as soon as that step returns (Loop::run).
    if (loop.depth_ > 0) loop.stopping_ = true;
}

void LoopInternals::forget_thread_loop_after_fork() noexcept {
    Loop* own = tls_loop_owner.release();  // leaked on purpose, see fork.hpp
    if (own != nullptr && own->depth_ == 0) {
        tls_loop = nullptr;
        tls_scheduler = nullptr;
    }
    // Otherwise the task that called fork() is still running on it: the loop stays this
    // thread's until that run unwinds (Loop::run's Restore).
}

}  // namespace detail

}  // namespace asyncio
