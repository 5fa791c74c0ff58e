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
//  - `next`/`prev` belong to whichever queue holds the task; `heap_index` to the timer heap.
//  - Only the loop's thread touches any of this: no atomics.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>

namespace asyncio::detail {

class TaskBase;

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

    // Queue links (run queue, WaitQueue) and the ordering key: (key, seq) totally orders
    // every push, as MicroPython's run queue does (SEMANTICS.md 2.2).
    TaskBase* next = nullptr;
    TaskBase* prev = nullptr;
    std::int64_t key = 0;
    std::uint64_t seq = 0;

    // The loop's list of all live tasks, so that close() can reach tasks parked anywhere.
    TaskBase* all_next = nullptr;
    TaskBase* all_prev = nullptr;

    // Coro: the awaiting parent's frame. Task: the task's own (outermost) frame.
    std::coroutine_handle<> continuation;
    // Task: the innermost suspended coroutine, which the loop resumes.
    std::coroutine_handle<> resume_point;
    // The outcome when it is an exception.
    std::exception_ptr exception;
    // Tasks awaiting this task, in the order they began waiting.
    WaitQueue waiters;
    // Waiting: the WaitQueue; AwaitingTask: the awaited TaskBase.
    void* wait_target = nullptr;

    std::uint32_t heap_index = 0;
    std::uint32_t refs = 0;  ///< Task handles + the loop's own reference
    TaskState state = TaskState::Coro;
    InlineState inline_state = InlineState::Idle;
    std::uint8_t flags = 0;

    [[nodiscard]] bool has(std::uint8_t f) const noexcept { return (flags & f) != 0; }
    [[nodiscard]] bool is_task() const noexcept { return has(kIsTask); }
    [[nodiscard]] bool done() const noexcept { return state == TaskState::Done; }
};

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
