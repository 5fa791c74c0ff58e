// asyncio for C++: MicroPython's asyncio module on C++20 coroutines.
// The umbrella header: includes every public header, declares nothing itself.
#pragma once

#include "asyncio/coro.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/loop.hpp"
#include "asyncio/sleep.hpp"
#include "asyncio/task.hpp"
