// Port of micropython tests/extmod/asyncio_cancel_fair2.py
// Checks: fairness of cancelling a task. A task that keeps being cancelled by several other
// tasks still gets a chance to run (and to handle the cancellation); cancel() returns true
// until the task has finished, then false.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_cancel_fair2_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioCancelFair2 = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> task_a(Trace* trace) {
    try {
        for (;;) {
            (*trace)("sleep a");
            co_await sleep(0);
        }
    } catch (const CancelledError&) {
        (*trace)("cancelled a");
    }
}

Coro<> task_b(int id, Task<> other, Trace* trace) {
    while (other.cancel()) {
        (*trace)("sleep b " + std::to_string(id));
        co_await sleep(0);
    }
    (*trace)("done b " + std::to_string(id));
}

Coro<> main_task(Trace* trace) {
    Task<> t = create_task(task_a(trace));
    for (int i = 0; i < 3; ++i) create_task(task_b(i, t, trace));
    co_await t;
}

}  // namespace

TEST_F(AsyncioCancelFair2, ATaskCancelledByManyTasksStillRunsAndHandlesTheCancel) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "sleep a",
                               "sleep b 0",
                               "sleep b 1",
                               "sleep b 2",
                               "cancelled a",
                               "done b 0",
                               "done b 1",
                               "done b 2",
                           }));
}

}  // namespace asyncio_cancel_fair2_test
