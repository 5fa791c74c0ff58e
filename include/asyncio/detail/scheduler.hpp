// Scheduler: the hot half of the event loop, inline so that awaiters compile to a few
// instructions. The cold half (the run loop, cancel, completion, teardown) is src/core/.
//
// Ordering: every push gets (key, seq). "Wake now" pushes go to an
// intrusive FIFO with key = the round's cached time, so the FIFO is already sorted; sleepers
// go to the timer heap with key = their deadline. pop_due() takes whichever head is smaller,
// which is exactly MicroPython's single-heap order without paying for a heap per switch.
//
// Contract of everything here: allocates nothing (the timer array only grows to its
// high-water mark), takes no lock, makes no system call, touched by the loop's thread only.
#pragma once

#include <chrono>
#include <cstdint>

#include "asyncio/detail/task_base.hpp"
#include "asyncio/detail/timer_heap.hpp"
#include "asyncio/export.hpp"

namespace asyncio::detail {

/// Monotonic time in nanoseconds (vDSO clock_gettime; ~30 ns, so never once per switch).
inline std::int64_t monotonic_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// Throws CancelledError into the current task and clears its pending mark (cold path).
[[noreturn]] ASYNCIO_API void raise_cancelled(TaskBase* t);
/// current_task() outside a task.
[[noreturn]] ASYNCIO_API void raise_no_running_loop();

class Scheduler {
public:
    TaskBase* current = nullptr;  ///< the task being stepped, or null
    std::int64_t now = 0;         ///< cached loop_clock_ns(), refreshed once per round
    /// What virtual time has added to the monotonic clock so far (Loop::set_virtual_time);
    /// never decreases, so the loop's clock never goes back.
    std::int64_t clock_offset = 0;
    std::uint64_t next_seq = 0;
    TimerHeap timers;

    [[nodiscard]] bool ready_empty() const noexcept { return head_ == nullptr; }

    /// Makes `t` runnable at the back of "now".
    void push_ready(TaskBase* t) noexcept {
        t->key = now;
        t->seq = next_seq++;
        t->state = TaskState::Ready;
        t->next = nullptr;
        if (tail_ != nullptr) {
            tail_->next = t;
        } else {
            head_ = t;
        }
        tail_ = t;
    }

    /// Puts `t` to sleep until `deadline_ns`.
    void push_timer(TaskBase* t, std::int64_t deadline_ns) {
        t->seq = next_seq++;
        t->state = TaskState::Sleeping;
        timers.insert(t, deadline_ns);
    }

    /// The next task due at the cached time, removed from its queue, or null.
    TaskBase* pop_due() noexcept {
        TaskBase* f = head_;
        if (!timers.empty()) {
            const TaskBase* top = timers.top();
            if (top->key <= now &&
                (f == nullptr || top->key < f->key || (top->key == f->key && top->seq < f->seq))) {
                return timers.pop();
            }
        }
        if (f != nullptr) {
            head_ = f->next;
            if (head_ == nullptr) tail_ = nullptr;
            f->next = nullptr;
        }
        return f;
    }

    /// The task that is running now; throws RuntimeError outside a task.
    TaskBase* running_task() const {
        if (current == nullptr) [[unlikely]] raise_no_running_loop();
        return current;
    }

    /// Called by every awaiter of the library as it resumes: delivers a pending cancel().
    void check_cancel() const {
        if (current->has(TaskBase::kCancelPending)) [[unlikely]] raise_cancelled(current);
    }

    /// Parks the current task (suspended at `h`) in `q`, to be woken by wake_one/wake_all.
    void park(std::coroutine_handle<> h, WaitQueue& q) noexcept {
        TaskBase* t = current;
        t->resume_point = h;
        t->state = TaskState::Waiting;
        t->wait_target = &q;
        q.push_back(t);
    }

    /// Moves every task of `q` to the run queue, oldest first.
    void wake_all(WaitQueue& q) noexcept {
        while (TaskBase* t = q.pop_front()) push_ready(t);
    }

    /// Empties the run queue and the timer heap, handing each entry to `f` (teardown: the
    /// loop releases the callbacks among them). Entries `f` queues are handed over too.
    template <class F>
    void drain_all(F&& f) {
        while (head_ != nullptr || !timers.empty()) {
            TaskBase* t = head_;
            head_ = tail_ = nullptr;
            while (t != nullptr) {
                TaskBase* next = t->next;
                t->next = nullptr;
                f(t);
                t = next;
            }
            while (!timers.empty()) f(timers.pop());
        }
    }

    /// Takes `t` out of the run queue's FIFO if it is there; true if it was. Linear in the
    /// queue's length: for rare paths only (an object that owns a queued LoopCallback dying).
    bool remove_ready(TaskBase* t) noexcept {
        TaskBase* prev = nullptr;
        for (TaskBase* e = head_; e != nullptr; prev = e, e = e->next) {
            if (e != t) continue;
            (prev != nullptr ? prev->next : head_) = e->next;
            if (tail_ == e) tail_ = prev;
            e->next = nullptr;
            return true;
        }
        return false;
    }

    /// Drops every queued entry without touching the tasks (teardown).
    void clear_queues() noexcept {
        head_ = tail_ = nullptr;
        timers.clear();
    }

private:
    TaskBase* head_ = nullptr;
    TaskBase* tail_ = nullptr;
};

/// `co_await WaitOn{q}`: parks the current task in `q` until woken (wake_all, or cancel()),
/// then delivers a pending cancel. Used by gather's parking spot and by socket waits.
struct WaitOn {
    WaitQueue& queue;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const noexcept;
    void await_resume() const;
};

/// Something the loop calls when it comes due instead of resuming it (a timeout's deadline):
/// queued with push_ready/push_timer like a task, never a task itself. `fn` runs outside any
/// task (current_task() is empty), must not throw, and may free the node.
struct LoopCallback : TaskBase {
    using Fn = void (*)(LoopCallback&) noexcept;
    explicit LoopCallback(Fn f) noexcept : fn(f) { flags = kCallback; }
    Fn fn;
};

/// The scheduler of the loop that belongs to this thread (set when the loop is created).
ASYNCIO_API inline thread_local constinit Scheduler* tls_scheduler = nullptr;

/// The loop's clock in ns: the monotonic clock plus this thread's virtual-time offset. What
/// sleep and timeout deadlines are measured on (read when they are set, never per switch).
inline std::int64_t loop_clock_ns() noexcept {
    const Scheduler* s = tls_scheduler;
    return monotonic_ns() + (s != nullptr ? s->clock_offset : 0);
}

inline void WaitOn::await_suspend(std::coroutine_handle<> h) const noexcept { tls_scheduler->park(h, queue); }
inline void WaitOn::await_resume() const { tls_scheduler->check_cancel(); }

}  // namespace asyncio::detail
