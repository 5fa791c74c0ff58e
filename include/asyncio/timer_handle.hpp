/// @file
/// TimerHandle: what Loop::call_soon, call_later, call_at and call_soon_threadsafe return
/// (CPython's Handle and TimerHandle, one type here).
///
///      asyncio::TimerHandle h = loop.call_later(0.5, [] { std::puts("late"); });
///      h.cancel();   // it will not run; a timer leaves the loop's timer heap at once
///
/// A copyable handle (copies refer to the same callback). Dropping every handle does not cancel
/// the callback. cancel() on the loop's own thread removes a pending timer from the heap and
/// destroys the callable (releasing what it captured); called on another thread, it only marks
/// the callback, which the loop then skips. Cancelling a callback that already ran, or twice, does
/// nothing.
#pragma once

#include <cstddef>
#include <utility>

#include "asyncio/detail/callback.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

class Loop;

namespace detail {
/// Entries in `loop`'s timer heap, task sleepers and timer callbacks alike (for tests).
ASYNCIO_API std::size_t timer_count(Loop& loop) noexcept;
}  // namespace detail

/// A callback scheduled by call_soon/call_later/call_at: a copyable handle to cancel it.
class ASYNCIO_API TimerHandle {
public:
    /// An empty handle: cancel() does nothing, cancelled() is false.
    TimerHandle() noexcept = default;
    /// Another handle to the same callback.
    TimerHandle(const TimerHandle& other) noexcept : node_(other.node_) {
        if (node_ != nullptr) node_->add_ref();
    }
    /// Takes over `other`'s reference; `other` becomes empty.
    TimerHandle(TimerHandle&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
    /// Refers to `other`'s callback instead.
    TimerHandle& operator=(TimerHandle other) noexcept {
        std::swap(node_, other.node_);
        return *this;
    }
    ~TimerHandle() {
        if (node_ != nullptr) node_->release();
    }

    /// Prevents the callback from running if it has not run yet.
    void cancel() noexcept;
    /// True once cancel() was called (on any copy of this handle).
    [[nodiscard]] bool cancelled() const noexcept { return node_ != nullptr && node_->is_cancelled(); }

    /// False for a default-constructed (empty) handle.
    explicit operator bool() const noexcept { return node_ != nullptr; }
    friend bool operator==(const TimerHandle& a, const TimerHandle& b) noexcept { return a.node_ == b.node_; }

    /// Takes over a reference the caller already counted (internal).
    static TimerHandle adopt(detail::CallbackNode* node) noexcept {
        TimerHandle h;
        h.node_ = node;
        return h;
    }

private:
    detail::CallbackNode* node_ = nullptr;
};

}  // namespace asyncio
