// CallbackNode: a plain function scheduled on the loop (call_soon, call_later, call_at,
// call_soon_threadsafe, a signal's handler, a finished to_thread call).
//
// A callback is queued exactly where a task would be: the run queue's FIFO for "soon", the
// timer heap for "later" (it is a LoopCallback, so both containers take it unchanged), so
// callbacks and task steps run in one (key, seq) order, FIFO among equals, as CPython runs its
// ready handles. The kCallback flag tells the loop's step() to call run() instead of resuming a
// coroutine.
//
// Ownership: an atomic reference count, because a TimerHandle returned by
// call_soon_threadsafe may be dropped on another thread while the loop runs the callback. The
// loop holds one reference from scheduling until the callback has run (or was dropped
// cancelled); each TimerHandle holds one.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/scheduler.hpp"

namespace asyncio {
class Loop;
}

namespace asyncio::detail {

/// A LoopCallback without `fn`: the loop runs it through Loop::run_callback (which may reach
/// the exception handler) instead of calling a noexcept function pointer.
class CallbackNode : public LoopCallback {
public:
    CallbackNode() noexcept : LoopCallback(nullptr) {}
    CallbackNode(const CallbackNode&) = delete;
    CallbackNode& operator=(const CallbackNode&) = delete;
    virtual ~CallbackNode() = default;

    /// Loop thread: the callback itself (may throw: the loop's exception handler gets it).
    virtual void run() = 0;
    /// Worker thread (to_thread jobs only): the blocking part, before run() on the loop.
    virtual void work() noexcept {}
    /// Loop thread: destroys the callable early (on cancel, after run) so that whatever it
    /// captured is released then, not when the last TimerHandle goes.
    virtual void clear() noexcept {}

    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    [[nodiscard]] bool is_cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
    /// Marks the callback cancelled; true for the first call only.
    bool mark_cancelled() noexcept { return !cancelled_.exchange(true, std::memory_order_acq_rel); }

    Loop* loop = nullptr;                  ///< the loop it is scheduled on
    CallbackNode* inbox_next = nullptr;    ///< link in the loop's cross-thread inbox

private:
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<bool> cancelled_{false};
};

/// A callback holding any `void()` callable (copyable or move-only).
template <class F>
class CallbackOf final : public CallbackNode {
public:
    template <class G>
    explicit CallbackOf(G&& g) : fn_(std::in_place, std::forward<G>(g)) {}
    void run() override { (*fn_)(); }
    void clear() noexcept override { fn_.reset(); }

private:
    std::optional<F> fn_;  // emptied by clear()
};

/// Allocates the callback node for `f` (one allocation: node and callable together).
template <class F>
CallbackNode* make_callback(F&& f) {
    static_assert(std::is_invocable_r_v<void, std::decay_t<F>&>, "a callback must be callable as void()");
    return new CallbackOf<std::decay_t<F>>(std::forward<F>(f));
}

}  // namespace asyncio::detail
