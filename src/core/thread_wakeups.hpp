// ThreadWakeups: how a ThreadSafeFlag set on another thread (or in a signal handler) reaches
// the loop. The flag announces itself with one atomic exchange on `pending_`; the loop checks
// `pending_` once per round with a relaxed load and, when set, scans its flags that have a
// waiter. Everything but notify() runs on the loop's thread. Cross-thread callbacks
// (callback_inbox.hpp), finished to_thread calls and signals (proc/signals.hpp) share the same
// notify().
//
// The eventfd write (a system call, ~1-2 us) is paid only when the loop is really asleep in
// the poller, or about to be: the loop publishes `sleeping_` before it blocks and then looks
// at `pending_` once more (begin_sleep); notify() sets `pending_` and then looks at
// `sleeping_`. Both sides store, then load, all seq_cst (Dekker): at least one of them sees the
// other's store, so either the loop does not block or the notifier writes the eventfd. A loop
// that is running (or spinning for a to_thread result) picks the work up at its next round
// without any system call on either side.
#pragma once

#include <atomic>

#include "asyncio/thread_safe_flag.hpp"
#include "io/poller.hpp"

namespace asyncio::detail {

class ThreadWakeups {
public:
    explicit ThreadWakeups(Poller& poller) noexcept : poller_(poller) {}

    /// Any thread, async-signal-safe.
    void notify() noexcept {
        if (pending_.exchange(true, std::memory_order_seq_cst)) return;  // announced already
        if (sleeping_.load(std::memory_order_seq_cst)) poller_.wake();
    }

    /// Loop thread, just before blocking in the poller: publishes that the loop sleeps. False
    /// (and nothing published) when a notify() arrived meanwhile: then do not block.
    bool begin_sleep() noexcept {
        sleeping_.store(true, std::memory_order_seq_cst);
        if (!pending_.load(std::memory_order_seq_cst)) return true;
        sleeping_.store(false, std::memory_order_relaxed);
        return false;
    }
    /// Loop thread, after the poller returned: notify() goes back to not writing the eventfd.
    void end_sleep() noexcept { sleeping_.store(false, std::memory_order_relaxed); }

    /// Loop thread: whether a wake-up is announced and not yet handled (virtual time must
    /// not jump over it).
    [[nodiscard]] bool pending() const noexcept { return pending_.load(std::memory_order_relaxed); }

    /// Loop thread, once per round: wakes the waiters of flags that were set. True when a
    /// notify() arrived since the last call (the caller then also drains its inbox and
    /// pending signals, which announce themselves through the same notify()).
    bool poll(Scheduler& s) noexcept {
        if (!pending_.load(std::memory_order_relaxed)) return false;
        pending_.exchange(false, std::memory_order_acq_rel);
        for (ThreadSafeFlag* f = head_; f != nullptr;) {
            ThreadSafeFlag* next = f->next_;
            if (f->flag_.load(std::memory_order_acquire)) {
                if (TaskBase* t = f->queue_.pop_front()) s.push_ready(t);
                remove(f);
            }
            f = next;
        }
        return true;
    }

    void add(ThreadSafeFlag* f) noexcept {
        if (f->wakeups_.load(std::memory_order_relaxed) == this) return;  // still registered
        f->prev_ = nullptr;
        f->next_ = head_;
        if (head_ != nullptr) head_->prev_ = f;
        head_ = f;
        f->wakeups_.store(this, std::memory_order_seq_cst);
    }

    void remove(ThreadSafeFlag* f) noexcept {
        f->wakeups_.store(nullptr, std::memory_order_relaxed);
        (f->prev_ != nullptr ? f->prev_->next_ : head_) = f->next_;
        if (f->next_ != nullptr) f->next_->prev_ = f->prev_;
        f->prev_ = f->next_ = nullptr;
    }

private:
    Poller& poller_;
    std::atomic<bool> pending_{false};
    std::atomic<bool> sleeping_{false};  // the loop is in (or entering) a blocking poller wait
    ThreadSafeFlag* head_ = nullptr;
};

/// The calling thread's loop's wake-up channel (creating the loop on first use).
ThreadWakeups& this_thread_wakeups();

}  // namespace asyncio::detail
