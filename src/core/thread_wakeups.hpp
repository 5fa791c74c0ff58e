// ThreadWakeups: how a ThreadSafeFlag set on another thread (or in a signal handler) reaches
// the loop. The flag announces itself with one atomic exchange (and an eventfd write through
// the poller only when that exchange flips `pending_` from false to true); the loop checks
// `pending_` once per round with a relaxed load and, when set, scans its flags that have a
// waiter. Everything but notify() runs on the loop's thread. Cross-thread callbacks
// (callback_inbox.hpp) and signals (proc/signals.hpp) share the same notify().
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
        if (!pending_.exchange(true, std::memory_order_acq_rel)) poller_.wake();
    }

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
    ThreadSafeFlag* head_ = nullptr;
};

/// The calling thread's loop's wake-up channel (creating the loop on first use).
ThreadWakeups& this_thread_wakeups();

}  // namespace asyncio::detail
