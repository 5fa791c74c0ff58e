// Cancel counting for the scopes that cancel their own task (timeout, task_group), after
// CPython's Task.cancelling()/uncancel(): a scope that cancelled its task takes its request
// back when it exits; if requests remain, someone else cancelled the task too and the
// CancelledError must keep propagating.
#pragma once

#include <cstdint>

#include "asyncio/detail/task_base.hpp"

namespace asyncio::detail {

/// Requests to cancel `t` not yet taken back.
inline std::uint32_t cancelling(const TaskBase& t) noexcept { return t.cancel_requests; }

/// Takes back one request; with none left, a cancel not yet delivered is dropped (CPython
/// 3.13). Returns the requests left.
inline std::uint32_t uncancel(TaskBase& t) noexcept {
    if (t.cancel_requests > 0 && --t.cancel_requests == 0) {
        t.flags &= static_cast<std::uint8_t>(~TaskBase::kCancelPending);
    }
    return t.cancel_requests;
}

/// Cancels the running task `t` itself (CPython allows a task to cancel itself; cancel()
/// refuses): CancelledError arrives at its next co_await.
inline void cancel_running(TaskBase& t) noexcept {
    ++t.cancel_requests;
    t.flags |= TaskBase::kCancelPending;
}

}  // namespace asyncio::detail
