// The task header that every coroutine frame carries, and the intrusive wait queue.
//
// A task IS its outermost coroutine frame (one allocation per task): create_task() turns a
// Coro's promise into a task by setting is_task, nothing is allocated. Nested Coro frames
// carry the same fields unused; that costs bytes, never time.
//
// Invariants:
//  - A task is in at most one place at a time, named by `state`: the run queue (Ready), the
//    timer heap (Sleeping), a WaitQueue (Waiting), another task's waiter queue
//    (AwaitingTask), or nowhere (Created before its first push, Running, Done).
//  - `next`/`prev` belong to whichever queue holds the task. The run queue uses `next` alone
//    and the timer heap neither, so their words also hold the timer-heap position
//    (`heap_index`, Sleeping) and the push counter (`seq`, Ready and Sleeping).
//  - Only the loop's thread touches any of this: no atomics.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>

#include "asyncio/detail/call_site.hpp"

namespace asyncio::detail {

class TaskBase;
class TaskWaiter;

/// Where a task is, as far as the loop and cancel() are concerned.
enum class TaskState : std::uint8_t {
    Coro,          ///< a plain Coro frame, not (yet) a task
    Ready,         ///< linked in the run queue
    Sleeping,      ///< in the timer heap
    Waiting,       ///< linked in a WaitQueue (Event, Lock, I/O, ...)
    AwaitingTask,  ///< linked in another task's waiter queue
    Running,       ///< being stepped (it is the current task, or an outer one of a nested run)
    Done,          ///< finished; the outcome is stored
};

/// How a Coro that was awaited inline is going (see CoroAwaiter in coro.hpp).
enum class InlineState : std::uint8_t { Idle, RunningInline, CompletedInline, Suspended };

/// Intrusive FIFO of tasks, doubly linked so that cancel() unlinks a waiter in O(1).
class WaitQueue {
public:
    WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;

    [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
    [[nodiscard]] TaskBase* front() const noexcept { return head_; }
    inline void push_back(TaskBase* t) noexcept;
    inline TaskBase* pop_front() noexcept;
    inline void remove(TaskBase* t) noexcept;

private:
    TaskBase* head_ = nullptr;
    TaskBase* tail_ = nullptr;
};

/// A task's list of waiters (TaskWaiter nodes), notified in the order they were linked. One
/// pointer: the nodes are linked forwards to a null end, and backwards in a ring (the head's
/// `prev_` is the tail), so push_back and remove stay O(1) without a tail pointer.
class WaiterList {
public:
    WaiterList() = default;
    WaiterList(const WaiterList&) = delete;
    WaiterList& operator=(const WaiterList&) = delete;

    [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
    [[nodiscard]] TaskWaiter* front() const noexcept { return head_; }
    inline void push_back(TaskWaiter* w) noexcept;
    inline TaskWaiter* pop_front() noexcept;
    inline void remove(TaskWaiter* w) noexcept;
    /// Forgets every node (they become unlinked) without notifying them (teardown).
    inline void clear() noexcept;

private:
    TaskWaiter* head_ = nullptr;
};

/// The fields a task needs, embedded in every promise (the base of Promise<T>).
class TaskBase {
public:
    // Flag bits.
    static constexpr std::uint8_t kIsTask = 1;         ///< the root frame of a task
    static constexpr std::uint8_t kStarted = 2;        ///< its body has begun running
    static constexpr std::uint8_t kCancelPending = 4;  ///< throw CancelledError at next resume
    static constexpr std::uint8_t kAwaited = 8;        ///< someone retrieved the outcome
    static constexpr std::uint8_t kReportPending = 16; ///< queued once more for the
                                                       ///< "exception wasn't retrieved" check
    static constexpr std::uint8_t kCancelled = 32;     ///< the outcome is a CancelledError
    static constexpr std::uint8_t kLoopRef = 64;       ///< the loop holds a reference
    static constexpr std::uint8_t kCallback = 128;     ///< not a task: a LoopCallback the loop
                                                       ///< calls when it comes due (scheduler.hpp),
                                                       ///< or the loop's stop marker

    // Queue links (run queue, WaitQueue) and the ordering key: (key, seq) totally orders
    // every push, as MicroPython's run queue does. `key` is the round's time in the run queue
    // and the deadline in the timer heap (which keeps only a pointer per sleeper).
    // A task is in one place at a time (see `state`), so words whose use depends on the place
    // are shared; every reader checks `state` (or knows it) first:
    //  - `next`: the link of the run queue (Ready) or a WaitQueue (Waiting); while Sleeping,
    //    `heap_index`, the task's position in the timer heap (O(log n) removal on cancel).
    //  - `prev`: a WaitQueue's back link (Waiting); while Ready or Sleeping, `seq`, the push
    //    counter that breaks ties of `key` (the run queue is singly linked).
    //  - `key` while Ready or Sleeping; `wait_target` while Waiting (the WaitQueue) or
    //    AwaitingTask (the awaited TaskBase).
    union {
        TaskBase* next = nullptr;
        std::size_t heap_index;
    };
    union {
        TaskBase* prev = nullptr;
        std::uint64_t seq;
    };
    union {
        std::int64_t key = 0;
        void* wait_target;
    };

    // The loop's list of all live tasks, so that close() can reach tasks parked anywhere.
    TaskBase* all_next = nullptr;
    TaskBase* all_prev = nullptr;

    // Coro: the awaiting parent's frame. Task: the task's own (outermost) frame.
    std::coroutine_handle<> continuation;
    // Task: the innermost suspended coroutine, which the loop resumes.
    std::coroutine_handle<> resume_point;
    // The outcome when it is an exception.
    std::exception_ptr exception;
    // Whoever awaits this task (plain awaits, gather, wait_for), in the order they began.
    WaiterList waiters;

    // Task: its number in the loop, 1, 2, ... (the N of the default name "Task-N"), or
    // kNamed once set_name gave it a name of its own (kept in the loop's name table).
    std::uint64_t number = 0;

    std::uint32_t refs = 0;  ///< Task handles + the loop's own reference
    /// cancel() calls not yet taken back by uncancel() (CPython's Task.cancelling()); only
    /// timeout scopes and task groups read it, to tell their own cancel from one from outside.
    std::uint32_t cancel_requests = 0;
    TaskState state = TaskState::Coro;
    InlineState inline_state = InlineState::Idle;
    std::uint8_t flags = 0;

    // The call graph (callgraph.hpp), kept by pointer stores only: the co_await the frame last
    // reached, the frame's coroutine function (set when the frame is created), and the Coro
    // frame it is awaiting inline (set by CoroAwaiter while the child runs or is suspended,
    // null otherwise), so that a task's chain is walked from its root frame inwards. Without
    // std::source_location `await_site` is a 4-byte line and fills the word of the bytes above.
    AwaitSite await_site{};
    FrameOrigin origin{};
    TaskBase* inner = nullptr;

    static constexpr std::uint64_t kNamed = 0;

    [[nodiscard]] bool has(std::uint8_t f) const noexcept { return (flags & f) != 0; }
    [[nodiscard]] bool is_task() const noexcept { return has(kIsTask); }
    [[nodiscard]] bool done() const noexcept { return state == TaskState::Done; }
};

/// One waiter on a task's completion, owned by the waiting side (an awaiter in a coroutine
/// frame, a gather): it unlinks itself when destroyed, so a frame destroyed while waiting
/// leaves no dangling entry. `notify` runs inside the loop when the task finishes.
class TaskWaiter {
public:
    using Notify = void (*)(TaskWaiter&) noexcept;

    explicit TaskWaiter(Notify on_done) noexcept : notify_(on_done) {}
    TaskWaiter(const TaskWaiter&) = delete;
    TaskWaiter& operator=(const TaskWaiter&) = delete;
    ~TaskWaiter() { unlink(); }

    /// Adds this node to `target`'s waiters, on behalf of the task `waiting` (null: no task),
    /// which the call graph shows as awaiting `target`.
    void link(TaskBase& target, TaskBase* waiting) noexcept {
        target_ = &target;
        waiting_ = waiting;
        target.waiters.push_back(this);
    }
    void unlink() noexcept {
        if (target_ != nullptr) target_->waiters.remove(this);
    }
    [[nodiscard]] bool linked() const noexcept { return target_ != nullptr; }
    void notify() noexcept { notify_(*this); }
    /// The task this node waits for the target on behalf of (the call graph's "awaited by").
    [[nodiscard]] TaskBase* waiting_task() const noexcept { return waiting_; }
    /// The next node of the same waiter list (for walking it; the list owns the order).
    [[nodiscard]] TaskWaiter* next_in_list() const noexcept { return next_; }

private:
    friend class WaiterList;
    TaskWaiter* prev_ = nullptr;
    TaskWaiter* next_ = nullptr;
    TaskBase* target_ = nullptr;  // the task whose list holds this node, or null
    TaskBase* waiting_ = nullptr;  // the task on whose behalf it waits
    Notify notify_;
};

inline void WaiterList::push_back(TaskWaiter* w) noexcept {
    w->next_ = nullptr;
    if (head_ == nullptr) {
        w->prev_ = w;
        head_ = w;
        return;
    }
    TaskWaiter* tail = head_->prev_;
    tail->next_ = w;
    w->prev_ = tail;
    head_->prev_ = w;
}

inline TaskWaiter* WaiterList::pop_front() noexcept {
    TaskWaiter* w = head_;
    if (w != nullptr) remove(w);
    return w;
}

inline void WaiterList::remove(TaskWaiter* w) noexcept {
    if (w == head_) {
        head_ = w->next_;
        if (head_ != nullptr) head_->prev_ = w->prev_;  // the tail (w was not the only node)
    } else {
        w->prev_->next_ = w->next_;
        // The node after w takes w's back link; if w was the tail, the head's ring link does.
        (w->next_ != nullptr ? w->next_ : head_)->prev_ = w->prev_;
    }
    w->next_ = w->prev_ = nullptr;
    w->target_ = nullptr;
}

inline void WaiterList::clear() noexcept {
    while (head_ != nullptr) remove(head_);
}

inline void WaitQueue::push_back(TaskBase* t) noexcept {
    t->next = nullptr;
    t->prev = tail_;
    if (tail_ != nullptr) {
        tail_->next = t;
    } else {
        head_ = t;
    }
    tail_ = t;
}

inline TaskBase* WaitQueue::pop_front() noexcept {
    TaskBase* t = head_;
    if (t != nullptr) {
        head_ = t->next;
        if (head_ != nullptr) {
            head_->prev = nullptr;
        } else {
            tail_ = nullptr;
        }
        t->next = t->prev = nullptr;
    }
    return t;
}

inline void WaitQueue::remove(TaskBase* t) noexcept {
    (t->prev != nullptr ? t->prev->next : head_) = t->next;
    (t->next != nullptr ? t->next->prev : tail_) = t->prev;
    t->next = t->prev = nullptr;
}

}  // namespace asyncio::detail
