// Port of micropython tests/extmod/asyncio_task_done.py
// Checks: Task::done() is false right after create_task, true once the task has finished
// (returned or raised) and still true after it was awaited; false while it sleeps.
#include <asyncio/asyncio.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_task_done_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioTaskDone = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

// Python's `raise ValueError` (the class): repr() gives "ValueError()".
class ValueError : public std::runtime_error {
public:
    ValueError() : std::runtime_error("ValueError()") {}
};

std::string str(bool b) { return b ? "True" : "False"; }

Coro<> task(double t, bool raise, Trace* trace) {
    (*trace)("task start");
    if (t >= 0) co_await sleep(t);
    if (raise) throw ValueError();
    (*trace)("task done");
}

Coro<> main_task(Trace* trace) {
    // Task that finishes immediately.
    (*trace)("==========");
    Task<> t = create_task(task(-1, false, trace));
    (*trace)(str(t.done()));
    co_await sleep(0);
    (*trace)(str(t.done()));
    co_await t;
    (*trace)(str(t.done()));

    // Task that starts, runs and finishes.
    (*trace)("==========");
    t = create_task(task(0.01, false, trace));
    (*trace)(str(t.done()));
    co_await sleep(0);
    (*trace)(str(t.done()));
    co_await t;
    (*trace)(str(t.done()));

    // Task that raises immediately.
    (*trace)("==========");
    t = create_task(task(-1, true, trace));
    (*trace)(str(t.done()));
    co_await sleep(0);
    (*trace)(str(t.done()));
    try {
        co_await t;
    } catch (const ValueError& er) {
        (*trace)(er.what());
    }
    (*trace)(str(t.done()));

    // Task that raises after a delay.
    (*trace)("==========");
    t = create_task(task(0.01, true, trace));
    (*trace)(str(t.done()));
    co_await sleep(0);
    (*trace)(str(t.done()));
    try {
        co_await t;
    } catch (const ValueError& er) {
        (*trace)(er.what());
    }
    (*trace)(str(t.done()));
}

}  // namespace

TEST_F(AsyncioTaskDone, DoneIsFalseUntilTheTaskReturnsOrRaisesThenTrue) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "==========",
                               "False",
                               "task start",
                               "task done",
                               "True",
                               "True",
                               "==========",
                               "False",
                               "task start",
                               "False",
                               "task done",
                               "True",
                               "==========",
                               "False",
                               "task start",
                               "True",
                               "ValueError()",
                               "True",
                               "==========",
                               "False",
                               "task start",
                               "False",
                               "ValueError()",
                               "True",
                           }));
}

}  // namespace asyncio_task_done_test
