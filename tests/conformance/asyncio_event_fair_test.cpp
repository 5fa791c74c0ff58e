// Port of micropython tests/extmod/asyncio_event_fair.py
// Checks: tasks that keep doing set(); clear(); wait() on an Event do not take over the
// scheduler: tasks that only sleep(0) still get their turns, round-robin.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_event_fair_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioEventFair = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> task1(int id, Trace* trace) {
    for (int i = 0; i < 4; ++i) {
        (*trace)("sleep " + std::to_string(id));
        co_await sleep(0);
    }
}

Coro<> task2(int id, Event* ev, Trace* trace) {
    for (int i = 0; i < 4; ++i) {
        ev->set();
        ev->clear();
        (*trace)("wait " + std::to_string(id));
        co_await ev->wait();
    }
}

Coro<> main_task(Trace* trace) {
    Event ev;
    std::vector<Task<>> tasks{
        create_task(task1(0, trace)),
        create_task(task2(2, &ev, trace)),
        create_task(task1(1, trace)),
        create_task(task2(3, &ev, trace)),
    };
    co_await tasks[1];
    ev.set();
    // Not in upstream (whose process just exits): let task 3 see the final set() and finish,
    // so that no task of this test is left waiting on `ev`.
    co_await tasks[3];
}

}  // namespace

TEST_F(AsyncioEventFair, TasksLoopingOnSetClearWaitDoNotStarveSleepingTasks) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "sleep 0",
                               "wait 2",
                               "sleep 1",
                               "wait 3",
                               "sleep 0",
                               "sleep 1",
                               "wait 2",
                               "sleep 0",
                               "sleep 1",
                               "wait 3",
                               "sleep 0",
                               "sleep 1",
                               "wait 2",
                               "wait 3",
                               "wait 2",
                               "wait 3",
                           }));
}

}  // namespace asyncio_event_fair_test
