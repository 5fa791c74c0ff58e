// The poller seam: the only way the core reaches the operating system's readiness API.
//
// A back end offers four things (libuv's back-end contract is the model):
//   watch(fd, events, token) / unwatch(fd)   start / stop reporting an fd's readiness
//   wait(timeout_ns, on_ready)               block until an fd is ready, wake() is called or
//                                            the timeout passes; report each ready fd once
//   wake()                                   end a wait() from any thread or a signal handler
// The loop calls wait() once per round at most, and only with a zero timeout while tasks are
// runnable and some fd is watched; when nothing is runnable it blocks until the next timer.
//
// Back ends: EpollPoller (Linux). The type alias below picks one at compile time, so the seam
// costs no virtual call.
#pragma once

#include "io/epoll_poller.hpp"

namespace asyncio::detail {

using Poller = EpollPoller;

}  // namespace asyncio::detail
