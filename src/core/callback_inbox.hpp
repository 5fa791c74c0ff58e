// CallbackInbox: how callbacks from other threads (call_soon_threadsafe, run_coroutine_threadsafe,
// finished to_thread calls) reach the loop.
//
// A lock-free multi-producer stack (Treiber): push() links the node with one CAS; the loop
// takes the whole stack with one exchange, reverses it to arrival order and appends it to its
// run queue. The producer then calls ThreadWakeups::notify(), which writes the eventfd only
// when no wake-up is already pending, so a burst of pushes costs the loop one wake-up.
//
// Closing swaps in a sentinel that push() refuses, so a push racing with close() either lands
// before it (and is released by close) or fails (and the caller throws): nothing is leaked.
#pragma once

#include <atomic>
#include <cstdint>

#include "asyncio/detail/callback.hpp"

namespace asyncio::detail {

class CallbackInbox {
public:
    CallbackInbox() = default;
    CallbackInbox(const CallbackInbox&) = delete;
    CallbackInbox& operator=(const CallbackInbox&) = delete;
    ~CallbackInbox() { close(); }

    /// Any thread. False (and the node untouched) once the inbox is closed.
    bool push(CallbackNode* node) noexcept {
        CallbackNode* head = head_.load(std::memory_order_relaxed);
        do {
            if (head == closed()) return false;
            node->inbox_next = head;
            // release: the node's contents are visible to the loop that takes it.
        } while (!head_.compare_exchange_weak(head, node, std::memory_order_release, std::memory_order_relaxed));
        return true;
    }

    /// Loop thread: everything pushed so far, oldest first (linked through inbox_next).
    CallbackNode* take() noexcept {
        CallbackNode* head = head_.load(std::memory_order_relaxed);
        if (head == nullptr || head == closed()) return nullptr;
        head = head_.exchange(nullptr, std::memory_order_acquire);
        CallbackNode* ordered = nullptr;
        while (head != nullptr) {
            CallbackNode* next = head->inbox_next;
            head->inbox_next = ordered;
            ordered = head;
            head = next;
        }
        return ordered;
    }

    /// Loop thread: drops (releases) everything queued; the inbox stays open.
    void discard() noexcept { release_all(take()); }

    /// Refuses further pushes and releases what was queued.
    void close() noexcept {
        CallbackNode* head = head_.exchange(closed(), std::memory_order_acq_rel);
        if (head != closed()) release_all(head);
    }
    /// In a child process after fork(): refuses further pushes and leaks what was queued (the
    /// callbacks belong to the parent's program; destroying them would run its destructors).
    void abandon() noexcept { head_.store(closed(), std::memory_order_relaxed); }
    void reopen() noexcept {
        CallbackNode* expected = closed();
        head_.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel);
    }

private:
    static CallbackNode* closed() noexcept { return reinterpret_cast<CallbackNode*>(std::uintptr_t{1}); }
    static void release_all(CallbackNode* n) noexcept {
        while (n != nullptr) {
            CallbackNode* next = n->inbox_next;
            n->inbox_next = nullptr;
            n->release();
            n = next;
        }
    }

    std::atomic<CallbackNode*> head_{nullptr};
};

}  // namespace asyncio::detail
