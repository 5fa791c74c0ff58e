// What a primitive does with tasks still parked on it when it is destroyed.
#pragma once

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/detail/task_base.hpp"

namespace asyncio::detail {

/// Wakes every task of `q` with a pending cancel: each gets CancelledError at its co_await
/// instead of waiting forever on an object that no longer exists.
inline void abandon_waiters(WaitQueue& q) noexcept {
    while (TaskBase* t = q.pop_front()) {
        t->flags |= TaskBase::kCancelPending;
        tls_scheduler->push_ready(t);
    }
}

}  // namespace asyncio::detail
