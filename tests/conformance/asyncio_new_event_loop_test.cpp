// Port of micropython tests/extmod/asyncio_new_event_loop.py
// Checks: get_event_loop() + set_exception_handler / create_task / run_forever / stop / close;
// then new_event_loop() gives a fresh loop on which the tasks left pending on the old one do
// not keep running (only "task 0" is printed each time).
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_new_event_loop_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioNewEventLoop = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

// Upstream works around CPython logging "Task was destroyed but it is pending!" when a loop is
// closed with pending tasks; MicroPython does not log it. Anything else goes to the default.
void exception_handler(Loop& loop, const ExceptionContext& context) {
    if (context.message == "Task was destroyed but it is pending!") {
        return;
    }
    loop.default_exception_handler(context);
}

Coro<> task(Trace* trace) {
    for (int i = 0; i < 4; ++i) {
        (*trace)("task " + std::to_string(i));
        co_await sleep(0);
        co_await sleep(0);
    }
}

Coro<> main_task(Loop* loop, Trace* trace) {
    (*trace)("start");
    loop->create_task(task(trace));
    co_await sleep(0);  // yields, meaning new task will run once
    (*trace)("stop");
    loop->stop();
}

}  // namespace

TEST_F(AsyncioNewEventLoop, ANewEventLoopDoesNotRunTheTasksLeftOnTheOldOne) {
    Trace trace;

    // Use default event loop to run some tasks
    Loop* loop = &get_event_loop();
    loop->set_exception_handler(exception_handler);
    loop->create_task(main_task(loop, &trace));
    loop->run_forever();
    loop->close();

    // Create new event loop, old one should not keep running
    loop = &new_event_loop();
    loop->set_exception_handler(exception_handler);
    loop->create_task(main_task(loop, &trace));
    loop->run_forever();
    loop->close();

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "start",
                               "task 0",
                               "stop",
                               "start",
                               "task 0",
                               "stop",
                           }));
}

}  // namespace asyncio_new_event_loop_test
