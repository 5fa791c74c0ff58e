// ThreadSafeFlag: registration of the one waiter with its loop; set() from anywhere.
//
// Ordering: set() stores the flag, then loads `wakeups_`; start_wait() stores `wakeups_`, then
// re-reads the flag. Both are seq_cst, so at least one side sees the other's store: either
// set() finds the registration and notifies the loop, or start_wait() finds the flag set and
// does not suspend. A set() is never lost.
#include "asyncio/thread_safe_flag.hpp"

#include "asyncio/errors.hpp"
#include "core/thread_wakeups.hpp"
#include "sync/abandon.hpp"

namespace asyncio {

ThreadSafeFlag::~ThreadSafeFlag() {
    if (detail::ThreadWakeups* w = wakeups_.load(std::memory_order_relaxed)) w->remove(this);
    detail::abandon_waiters(queue_);
}

void ThreadSafeFlag::set() noexcept {
    flag_.store(true, std::memory_order_seq_cst);
    if (detail::ThreadWakeups* w = wakeups_.load(std::memory_order_seq_cst)) w->notify();
}

bool ThreadSafeFlag::start_wait(std::coroutine_handle<> h) {
    detail::Scheduler& s = *detail::tls_scheduler;
    if (!queue_.empty()) throw RuntimeError("ThreadSafeFlag can only be waited on by one task at a time");
    detail::ThreadWakeups& w = detail::this_thread_wakeups();
    w.add(this);
    if (flag_.exchange(false, std::memory_order_seq_cst)) {  // set() raced with us: no wait
        w.remove(this);
        return false;
    }
    s.park(h, queue_);
    return true;
}

void ThreadSafeFlag::finish_wait() {
    detail::Scheduler& s = *detail::tls_scheduler;
    if (s.current->has(detail::TaskBase::kCancelPending)) {
        // cancel() already unlinked the task from queue_; drop the registration too.
        if (detail::ThreadWakeups* w = wakeups_.load(std::memory_order_relaxed)) w->remove(this);
        detail::raise_cancelled(s.current);
    }
    flag_.store(false, std::memory_order_relaxed);  // auto-reset on return
}

}  // namespace asyncio
