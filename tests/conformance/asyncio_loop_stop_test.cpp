// Port of micropython tests/extmod/asyncio_loop_stop.py
// Checks: Loop::stop() makes run_forever() return at the next yield point (after the tasks
// already runnable), a second stop() is harmless, tasks created after stop() run in the next
// run_forever(), and unfinished tasks carry over from one run_forever() to the next.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_loop_stop_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioLoopStop = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> task(Trace* trace) {
    (*trace)("task");
    co_return;
}

Coro<> main_task(Loop* loop, Trace* trace) {
    (*trace)("start");

    // Stop the loop after next yield
    loop->stop();

    // Check that calling stop() again doesn't do/break anything
    loop->stop();

    // This await should stop
    (*trace)("sleep");
    co_await sleep(0);

    // Schedule stop, then create a new task, then yield
    loop->stop();
    create_task(task(trace));
    co_await sleep(0);

    // Final stop
    (*trace)("end");
    loop->stop();
}

}  // namespace

TEST_F(AsyncioLoopStop, StopEndsRunForeverAtTheNextYieldAndTasksCarryOver) {
    Trace trace;
    Loop& loop = new_event_loop();
    loop.create_task(main_task(&loop, &trace));

    for (int i = 0; i < 3; ++i) {
        trace("run " + std::to_string(i));
        loop.run_forever();
    }

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "run 0",
                               "start",
                               "sleep",
                               "run 1",
                               "run 2",
                               "task",
                               "end",
                           }));
}

}  // namespace asyncio_loop_stop_test
