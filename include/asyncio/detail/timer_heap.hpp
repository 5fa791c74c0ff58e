// TimerHeap: sleeping tasks ordered by (deadline, push sequence).
//
// A 4-ary min-heap with the deadline stored in the array (cache-friendly sift) and the task's
// position kept in TaskBase::heap_index, so cancel() removes a sleeper in O(log n) and
// cancelled timers never accumulate. Equal deadlines come out in push order (the sequence
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
    struct Entry {
        std::int64_t key;
        TaskBase* task;
    };

    [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
    [[nodiscard]] const Entry& top() const noexcept { return heap_.front(); }

    /// Adds `t` with deadline `key`; t->seq must already be set.
    void insert(TaskBase* t, std::int64_t key) {
        heap_.push_back(Entry{key, t});
        sift_up(heap_.size() - 1);
    }

    /// Removes and returns the earliest entry's task.
    TaskBase* pop() noexcept {
        TaskBase* t = heap_.front().task;
        remove_at(0);
        return t;
    }

    /// True if `t` is in the heap (false after clear(), whatever `t` last recorded).
    [[nodiscard]] bool contains(const TaskBase* t) const noexcept {
        return t->heap_index < heap_.size() && heap_[t->heap_index].task == t;
    }

    /// Removes `t`, which must be in the heap.
    void remove(TaskBase* t) noexcept { remove_at(t->heap_index); }

    void clear() noexcept { heap_.clear(); }

private:
    static constexpr std::size_t kArity = 4;

    static bool less(const Entry& a, const Entry& b) noexcept {
        return a.key < b.key || (a.key == b.key && a.task->seq < b.task->seq);
    }

    void place(std::size_t i, const Entry& e) noexcept {
        heap_[i] = e;
        e.task->heap_index = static_cast<std::uint32_t>(i);
    }

    void sift_up(std::size_t i) noexcept {
        Entry e = heap_[i];
        while (i > 0) {
            std::size_t parent = (i - 1) / kArity;
            if (!less(e, heap_[parent])) break;
            place(i, heap_[parent]);
            i = parent;
        }
        place(i, e);
    }

    void sift_down(std::size_t i) noexcept {
        Entry e = heap_[i];
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
        Entry last = heap_.back();
        heap_.pop_back();
        if (i == heap_.size()) return;
        place(i, last);
        if (i > 0 && less(last, heap_[(i - 1) / kArity])) {
            sift_up(i);
        } else {
            sift_down(i);
        }
    }

    std::vector<Entry> heap_;
};

}  // namespace asyncio::detail
