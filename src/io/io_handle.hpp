// IoHandle: one watched file descriptor and the tasks waiting to read or write it.
//
// Registered once with the poller, edge-triggered, for both directions (PERFORMANCE.md T13).
// `readable` / `writable` cache the last edge: the stream clears one when a syscall reports
// EAGAIN, and the poller sets it (and wakes that direction's waiters) on the next edge. Readers
// and writers wait in separate queues, so cancelling one never disturbs the other (unlike
// MicroPython's quirk Q2). Loop thread only.
//
// Edge-triggered readiness is cached in `readable` / `writable`; see may_read / may_write.
#pragma once

#include <coroutine>

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/detail/task_base.hpp"

namespace asyncio::detail {

struct IoHandle {
    int fd = -1;
    bool readable = false;
    bool writable = false;
    // The peer closed its sending side (EPOLLRDHUP) or the socket failed. Never cleared: a
    // short read does not prove there is nothing left to learn (the end of stream or the error
    // is still to be read), and no new edge will announce it again.
    bool hangup = false;
    // The socket failed or both directions are shut (EPOLLHUP / EPOLLERR): the next send fails
    // at once, so writers must not wait for an edge. A read-side hang-up alone says nothing about
    // writing: a peer that half-closes may still be reading slowly, and inferring writability
    // from it made flush() spin on EAGAIN.
    bool broken = false;
    bool watched = false;
    WaitQueue readers;
    WaitQueue writers;
};

/// False only when the last read proved the socket drained and no hang-up was seen since.
inline bool may_read(const IoHandle& h) noexcept { return h.readable || h.hangup; }
inline bool may_write(const IoHandle& h) noexcept { return h.writable || h.broken; }

/// Parks the current task until that direction of the handle is ready (or the stream is
/// closed, which wakes both queues): `co_await WaitIo{h.readers}`.
using WaitIo = WaitOn;

/// Starts watching `h.fd` on this thread's loop (EPOLLET, both directions).
void io_watch(IoHandle& h);
/// Stops watching and wakes every waiter (they find the stream closed).
void io_unwatch(IoHandle& h) noexcept;

}  // namespace asyncio::detail
