// asyncio for C++: MicroPython's asyncio module on C++20 coroutines.
// The umbrella header: includes every public header, declares nothing itself.
#pragma once

#include "asyncio/coro.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/event.hpp"
#include "asyncio/fd.hpp"
#include "asyncio/gather.hpp"
#include "asyncio/lock.hpp"
#include "asyncio/loop.hpp"
#include "asyncio/server.hpp"
#include "asyncio/sleep.hpp"
#include "asyncio/stream.hpp"
#include "asyncio/task.hpp"
#include "asyncio/task_group.hpp"
#include "asyncio/thread_safe_flag.hpp"
#include "asyncio/threads.hpp"
#include "asyncio/timeout.hpp"
#include "asyncio/timer_handle.hpp"
#include "asyncio/tls.hpp"
#include "asyncio/unix.hpp"
#include "asyncio/wait.hpp"
#include "asyncio/wait_for.hpp"
