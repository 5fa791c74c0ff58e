// Loop::Impl: what the loop owns besides its scheduler: the poller, the cross-thread wake-up,
// the inbox for callbacks from other threads, the to_thread worker pool, the signal
// handlers and the child processes (pidfds watched until each child is reaped). Private to the library's sources; LoopInternals hands it to them.
#pragma once

#include <cstdint>

#include "asyncio/loop.hpp"
#include "core/callback_inbox.hpp"
#include "core/thread_wakeups.hpp"
#include "io/poller.hpp"
#include "proc/child_watcher.hpp"
#include "proc/signals.hpp"
#include "thread/spin.hpp"
#include "thread/worker_pool.hpp"

namespace asyncio {

struct Loop::Impl {
    detail::Poller poller;
    detail::ThreadWakeups wakeups{poller};
    detail::CallbackInbox inbox;
    detail::WorkerPool pool{inbox, wakeups};
    detail::SignalHandlers signals{wakeups};
    detail::ChildWatcher children;  // after the poller: it unwatches its pidfds
    std::uint64_t spun_for_calls = 0;  // pool.submitted() when the loop last spun for a result
    detail::AdaptiveSpin result_spin;  // how long it spins for one
};

namespace detail {

/// The library's own access to a Loop's private parts (one friend instead of many).
struct LoopInternals {
    static Loop::Impl& impl(Loop& loop) noexcept { return *loop.impl_; }
    static Scheduler& scheduler(Loop& loop) noexcept { return loop.sched_; }
    static bool closing(const Loop& loop) noexcept { return loop.closed_ || loop.tearing_down_; }
    static bool inherited(const Loop& loop) noexcept { return loop.inherited_; }
    /// Loop thread, after a cross-thread wake-up: threadsafe callbacks, finished to_thread
    /// calls and signals join the run queue, in that order.
    static void take_foreign_work(Loop& loop);
    /// fork() child handler (core/fork.hpp): marks `loop` inherited and closes its fds.
    static void abandon_after_fork(Loop& loop) noexcept;
    /// fork() child handler: the forking thread's loop is no longer its loop.
    static void forget_thread_loop_after_fork() noexcept;
};

}  // namespace detail
}  // namespace asyncio
