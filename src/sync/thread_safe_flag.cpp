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
    // Awaiters resume after this object is gone: detach them first, then wake the waiter.
    while (Awaiter* a = suspended_) {
        untrack(a);
        a->flag_ = nullptr;
    }
    detail::abandon_waiters(queue_);
}

void ThreadSafeFlag::untrack(Awaiter* a) noexcept {
    (a->prev_ != nullptr ? a->prev_->next_ : suspended_) = a->next_;
    if (a->next_ != nullptr) a->next_->prev_ = a->prev_;
    a->prev_ = a->next_ = nullptr;
    a->suspended_ = false;
}

void ThreadSafeFlag::Awaiter::await_resume() {
    if (flag_ != nullptr) {
        flag_->finish_wait(this);
        return;
    }
    // The flag died while this task waited. Woken by its destructor: CancelledError; woken by
    // a set() that came first: the wait succeeded (there is no flag left to reset).
    detail::tls_scheduler->check_cancel();
}

ThreadSafeFlag::Awaiter::~Awaiter() {
    if (flag_ == nullptr || !suspended_) return;
    // Destroyed while suspended (loop teardown): forget the registration, so that a later
    // set() from another thread does not notify a loop that may be gone.
    flag_->untrack(this);
    if (flag_->queue_.empty()) {
        if (detail::ThreadWakeups* w = flag_->wakeups_.load(std::memory_order_relaxed)) w->remove(flag_);
    }
}

void ThreadSafeFlag::set() noexcept {
    flag_.store(true, std::memory_order_seq_cst);
    if (detail::ThreadWakeups* w = wakeups_.load(std::memory_order_seq_cst)) w->notify();
}

bool ThreadSafeFlag::start_wait(std::coroutine_handle<> h, Awaiter* a) {
    detail::Scheduler& s = *detail::tls_scheduler;
    if (!queue_.empty()) throw RuntimeError("ThreadSafeFlag can only be waited on by one task at a time");
    detail::ThreadWakeups& w = detail::this_thread_wakeups();
    w.add(this);
    if (flag_.exchange(false, std::memory_order_seq_cst)) {  // set() raced with us: no wait
        w.remove(this);
        return false;
    }
    s.park(h, queue_);
    a->prev_ = nullptr;
    a->next_ = suspended_;
    if (suspended_ != nullptr) suspended_->prev_ = a;
    suspended_ = a;
    a->suspended_ = true;
    return true;
}

void ThreadSafeFlag::finish_wait(Awaiter* a) {
    if (a->suspended_) untrack(a);
    detail::Scheduler& s = *detail::tls_scheduler;
    if (s.current->has(detail::TaskBase::kCancelPending)) {
        // cancel() already unlinked the task from queue_; drop the registration too, unless
        // another task has begun waiting since.
        if (queue_.empty()) {
            if (detail::ThreadWakeups* w = wakeups_.load(std::memory_order_relaxed)) w->remove(this);
        }
        detail::raise_cancelled(s.current);
    }
    flag_.store(false, std::memory_order_relaxed);  // auto-reset on return
}

}  // namespace asyncio
