// TimerHeap: sleeping tasks ordered by (deadline, push sequence).
//
// A 4-ary min-heap of task pointers. The deadline is kept in the task's own `key` (the field
// the run queue orders by; a sleeping task is in no run queue), so an entry is one pointer:
// 8 bytes per sleeper instead of 16, which is most of what a sleeping task costs beyond its
// frame (docs/architecture.md, "Where every byte of a sleeping task goes"). The task's
// position is kept in TaskBase::heap_index (the word of the task's `next`, which no queue
// uses while it sleeps), so cancel() removes a sleeper in O(log n) and cancelled timers never
// accumulate. Equal deadlines come out in push order (the sequence
// number is the tie-break), as MicroPython's heap does.
//
// Hot path: insert/pop/remove allocate nothing once the array has grown to the high-water
// mark of simultaneous sleepers, take no lock and make no system call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "asyncio/detail/task_base.hpp"

namespace asyncio::detail {

class TimerHeap {
public:
    [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
    /// The earliest entry's task; its deadline is top()->key.
    [[nodiscard]] TaskBase* top() const noexcept { return heap_.front(); }

    /// Adds `t` with deadline `key` (stored in t->key); t->seq must already be set.
    void insert(TaskBase* t, std::int64_t key) {
        t->key = key;
        heap_.push_back(t);
        sift_up(heap_.size() - 1);
    }

    /// Removes and returns the earliest entry's task.
    TaskBase* pop() noexcept {
        TaskBase* t = heap_.front();
        remove_at(0);
        return t;
    }

    /// True if `t` is in the heap (false once popped or after clear(), whatever `t` last
    /// recorded). Only a Sleeping task has a heap_index (Scheduler::push_timer sets the state).
    [[nodiscard]] bool contains(const TaskBase* t) const noexcept {
        return t->state == TaskState::Sleeping && t->heap_index < heap_.size() && heap_[t->heap_index] == t;
    }

    /// Removes `t`, which must be in the heap.
    void remove(TaskBase* t) noexcept { remove_at(t->heap_index); }

    void clear() noexcept { heap_.clear(); }

private:
    static constexpr std::size_t kArity = 4;

    static bool less(const TaskBase* a, const TaskBase* b) noexcept {
        return a->key < b->key || (a->key == b->key && a->seq < b->seq);
    }

    void place(std::size_t i, TaskBase* e) noexcept {
        heap_[i] = e;
        e->heap_index = i;
    }

    void sift_up(std::size_t i) noexcept {
        TaskBase* e = heap_[i];
        while (i > 0) {
            std::size_t parent = (i - 1) / kArity;
            if (!less(e, heap_[parent])) break;
            place(i, heap_[parent]);
            i = parent;
        }
        place(i, e);
    }

    void sift_down(std::size_t i) noexcept {
        TaskBase* e = heap_[i];
        const std::size_t n = heap_.size();
        for (;;) {
            std::size_t first = i * kArity + 1;
            if (first >= n) break;
            std::size_t best = first;
            std::size_t last = first + kArity < n ? first + kArity : n;
            for (std::size_t c = first + 1; c < last; ++c) {
                if (less(heap_[c], heap_[best])) best = c;
            }
            if (!less(heap_[best], e)) break;
            place(i, heap_[best]);
            i = best;
        }
        place(i, e);
    }

    void remove_at(std::size_t i) noexcept {
        TaskBase* last = heap_.back();
        heap_.pop_back();
        if (i == heap_.size()) return;
        place(i, last);
        if (i > 0 && less(last, heap_[(i - 1) / kArity])) {
            sift_up(i);
        } else {
            sift_down(i);
        }
    }

    std::vector<TaskBase*> heap_;
};

}  // namespace asyncio::detail
