// Port of micropython tests/extmod/asyncio_basic2.py
// Checks: a created task first runs when its creator yields; run() returns the main
// coroutine's value as soon as it finishes, leaving an unfinished task behind (queued).
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_basic2_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioBasic2 = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> forever(Trace* trace) {
    (*trace)("forever start");
    co_await sleep(10);
}

Coro<int> main_task(Trace* trace) {
    (*trace)("main start");
    create_task(forever(trace));
    co_await sleep(0.001);
    (*trace)("main done");
    co_return 42;
}

}  // namespace

TEST_F(AsyncioBasic2, RunReturnsTheMainValueWhileAnotherTaskIsStillSleeping) {
    Trace trace;
    int result = run(main_task(&trace));
    trace(std::to_string(result));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "main start",
                               "forever start",
                               "main done",
                               "42",
                           }));

    // The "forever" task is still sleeping: it stays queued after run() (upstream the program
    // simply exits). Drop it so the fixture finds the loop clean.
    EXPECT_EQ(get_event_loop().task_count(), 1u);
    new_event_loop();
}

}  // namespace asyncio_basic2_test
