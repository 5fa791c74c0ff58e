// The calling thread's loop, for the core's out-of-line task functions.
#pragma once

#include "asyncio/loop.hpp"

namespace asyncio::detail {

/// Set when the thread's loop is created (get_event_loop), cleared when it is destroyed.
extern thread_local constinit Loop* tls_loop;

}  // namespace asyncio::detail
