// Port of micropython tests/extmod/asyncio_get_event_loop.py
// Checks: get_event_loop() followed by loop.run_until_complete(main()) runs a coroutine that
// sleeps 10 ms to its end.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_get_event_loop_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioGetEventLoop = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> main_task(Trace* trace) {
    (*trace)("start");
    co_await sleep(0.01);
    (*trace)("end");
}

}  // namespace

TEST_F(AsyncioGetEventLoop, RunUntilCompleteOnTheThreadsLoopRunsACoroutineToItsEnd) {
    Trace trace;
    Loop& loop = get_event_loop();
    loop.run_until_complete(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{"start", "end"}));
}

}  // namespace asyncio_get_event_loop_test
