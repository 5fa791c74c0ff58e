// WaitList: the waiter queue of Queue, Semaphore and Condition.
//
// Each waiter is a WaitNode inside its awaiter, so inside the waiting coroutine frame: parking
// allocates nothing. The task itself is also parked in a core WaitQueue, so that cancel() and
// loop teardown find and unlink it as they do for Event and Lock.
//
// Why a node as well as the task: a waiter woken by the primitive ("you got an item / a
// permit") stays reachable until it resumes. That lets the primitive (1) pass a hand-off on if
// the woken task is cancelled before it runs, and (2) when destroyed, tell every waiter, parked
// or woken, that it is gone (state Abandoned) so that no awaiter touches a dead object.
//
// Node states: Idle (not waiting) -> Parked (in parked_, task in tasks_) -> Woken (in
// in_flight_, task runnable) or Stale (cancelled while parked: in in_flight_, task runnable)
// -> Idle again when the awaiter resumes; Abandoned when the owner was destroyed meanwhile.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/detail/task_base.hpp"
#include "asyncio/export.hpp"

namespace asyncio::detail {

struct WaitNode {
    enum class State : std::uint8_t { Idle, Parked, Woken, Stale, Abandoned };

    WaitNode* prev = nullptr;
    WaitNode* next = nullptr;
    TaskBase* task = nullptr;
    State state = State::Idle;
    std::uint8_t tag = 0;  ///< set by the waker: what the wake-up means (owner-defined)

    /// True while a WaitList holds this node (it must leave() before it is reused or dies).
    [[nodiscard]] bool linked() const noexcept {
        return state == State::Parked || state == State::Woken || state == State::Stale;
    }
};

/// Intrusive doubly linked list of WaitNodes.
class NodeList {
public:
    [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
    [[nodiscard]] WaitNode* front() const noexcept { return head_; }
    void push_back(WaitNode* n) noexcept {
        n->next = nullptr;
        n->prev = tail_;
        if (tail_ != nullptr) {
            tail_->next = n;
        } else {
            head_ = n;
        }
        tail_ = n;
    }
    void remove(WaitNode* n) noexcept {
        (n->prev != nullptr ? n->prev->next : head_) = n->next;
        (n->next != nullptr ? n->next->prev : tail_) = n->prev;
        n->next = n->prev = nullptr;
    }

private:
    WaitNode* head_ = nullptr;
    WaitNode* tail_ = nullptr;
};

class ASYNCIO_API WaitList {
public:
    WaitList() = default;
    WaitList(const WaitList&) = delete;
    WaitList& operator=(const WaitList&) = delete;
    /// The owner calls abandon_all() in its destructor; a WaitList never outlives its nodes.
    ~WaitList() = default;

    /// Parks the current task (suspended at `h`) at the back, with `n` as its node.
    void park(WaitNode& n, std::coroutine_handle<> h) noexcept {
        Scheduler& s = *tls_scheduler;
        n.task = s.current;
        n.state = WaitNode::State::Parked;
        n.tag = 0;
        parked_.push_back(&n);
        s.park(h, tasks_);
    }

    /// True if some task is parked and not cancelled.
    [[nodiscard]] bool has_parked() noexcept {
        drop_stale();
        return !parked_.empty();
    }

    /// Makes the oldest parked task runnable, its node Woken with `tag`; false if none.
    bool wake_one(std::uint8_t tag) noexcept {
        drop_stale();
        WaitNode* n = parked_.front();
        if (n == nullptr) return false;
        parked_.remove(n);
        tasks_.remove(n->task);
        n->state = WaitNode::State::Woken;
        n->tag = tag;
        in_flight_.push_back(n);
        ++woken_;
        tls_scheduler->push_ready(n->task);
        return true;
    }

    /// wake_one for every parked task, oldest first.
    void wake_all(std::uint8_t tag) noexcept {
        while (wake_one(tag)) {
        }
    }

    /// Woken tasks that have not resumed yet.
    [[nodiscard]] std::size_t woken() const noexcept { return woken_; }

    /// The awaiter leaves the list as it resumes or is destroyed; its node becomes Idle.
    /// (Abandoned nodes are no longer in any list: the awaiter must not call this for them.)
    void leave(WaitNode& n) noexcept {
        switch (n.state) {
        case WaitNode::State::Parked:
            // Only a frame destroyed while parked gets here still queued (teardown unlinks
            // the task from tasks_ itself, but be safe if a frame dies some other way).
            if (n.task->state == TaskState::Waiting && n.task->wait_target == &tasks_) tasks_.remove(n.task);
            parked_.remove(&n);
            break;
        case WaitNode::State::Woken:
            --woken_;
            in_flight_.remove(&n);
            break;
        case WaitNode::State::Stale:
            in_flight_.remove(&n);
            break;
        default:
            return;
        }
        n.state = WaitNode::State::Idle;
    }

    /// The owner is being destroyed: every waiter, parked or woken, gets CancelledError at its
    /// co_await and its node is marked Abandoned so that its awaiter touches nothing of ours.
    void abandon_all() noexcept;

private:
    /// Moves nodes of tasks cancelled while parked (cancel() unlinked them from tasks_ and
    /// made them runnable) out of the way, so that parked_'s head is a task still waiting.
    void drop_stale() noexcept {
        while (WaitNode* n = parked_.front()) {
            if (n->task->state == TaskState::Waiting && n->task->wait_target == &tasks_) return;
            parked_.remove(n);
            n->state = WaitNode::State::Stale;
            in_flight_.push_back(n);
        }
    }

    NodeList parked_;     // Parked nodes, oldest first (a head may have gone stale)
    NodeList in_flight_;  // Woken and Stale nodes, until their awaiters resume
    WaitQueue tasks_;     // the parked tasks, for cancel() and teardown
    std::size_t woken_ = 0;
};

}  // namespace asyncio::detail
