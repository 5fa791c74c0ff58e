// Port of micropython tests/extmod/asyncio_cancel_task.py
// Checks: Task::cancel() before the task starts, while it sleeps, several times in a row, after
// it finished (false); awaiting a cancelled task raises CancelledError; cancelling a task that
// awaits another task cancels the inner one, and the outer one carries on if the inner one
// swallows the cancel.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_cancel_task_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioCancelTask = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

std::string str(bool b) { return b ? "True" : "False"; }

Coro<> task(double s, bool allow_cancel, Trace* trace) {
    try {
        (*trace)("task start");
        co_await sleep(s);
        (*trace)("task done");
    } catch (const CancelledError&) {
        (*trace)("task cancel");
        if (allow_cancel) throw;
    }
}

Coro<> task2(bool allow_cancel, Trace* trace) {
    (*trace)("task 2");
    try {
        Task<> inner = create_task(task(0.05, allow_cancel, trace));
        co_await inner;
    } catch (const CancelledError&) {
        (*trace)("task 2 cancel");
        throw;
    }
    (*trace)("task 2 done");
}

Coro<> main_task(Trace* trace) {
    // Cancel task immediately
    Task<> t = create_task(task(2, true, trace));
    (*trace)(str(t.cancel()));

    // Cancel task after it has started
    t = create_task(task(2, true, trace));
    co_await sleep(0.01);
    (*trace)(str(t.cancel()));
    (*trace)("main sleep");
    co_await sleep(0.01);

    // Cancel task multiple times after it has started
    t = create_task(task(2, true, trace));
    co_await sleep(0.01);
    for (int i = 0; i < 4; ++i) (*trace)(str(t.cancel()));
    (*trace)("main sleep");
    co_await sleep(0.01);

    // Await on a cancelled task
    (*trace)("main wait");
    try {
        co_await t;
    } catch (const CancelledError&) {
        (*trace)("main got CancelledError");
    }

    // Cancel task after it has finished
    t = create_task(task(0.01, false, trace));
    co_await sleep(0.05);
    (*trace)(str(t.cancel()));

    // Nested: task2 waits on task, task2 is cancelled (should cancel task then task2)
    (*trace)("----");
    t = create_task(task2(true, trace));
    co_await sleep(0.01);
    (*trace)("main cancel");
    t.cancel();
    (*trace)("main sleep");
    co_await sleep(0.1);

    // Nested: task2 waits on task, task2 is cancelled but task doesn't allow it (task2 should
    // continue)
    (*trace)("----");
    t = create_task(task2(false, trace));
    co_await sleep(0.01);
    (*trace)("main cancel");
    t.cancel();
    (*trace)("main sleep");
    co_await sleep(0.1);
}

}  // namespace

TEST_F(AsyncioCancelTask, CancelStopsATaskAtItsAwaitAndIsForwardedToTheTaskItAwaits) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "True",
                               "task start",
                               "True",
                               "main sleep",
                               "task cancel",
                               "task start",
                               "True",
                               "True",
                               "True",
                               "True",
                               "main sleep",
                               "task cancel",
                               "main wait",
                               "main got CancelledError",
                               "task start",
                               "task done",
                               "False",
                               "----",
                               "task 2",
                               "task start",
                               "main cancel",
                               "main sleep",
                               "task cancel",
                               "task 2 cancel",
                               "----",
                               "task 2",
                               "task start",
                               "main cancel",
                               "main sleep",
                               "task cancel",
                               "task 2 done",
                           }));
}

}  // namespace asyncio_cancel_task_test
