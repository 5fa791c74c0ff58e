// Port of micropython tests/extmod/asyncio_current_task.py
// Checks: current_task() inside a task returns that task's handle (the one create_task gave);
// outside any task (before and after run()) it raises RuntimeError.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_current_task_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioCurrentTask = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> task(Task<>* result) {
    *result = current_task();
    co_return;
}

Coro<> main_task(Trace* trace) {
    Task<> result;
    Task<> t = create_task(task(&result));
    co_await sleep(0);
    co_await sleep(0);
    (*trace)(t == result ? "True" : "False");
}

void print_current_task(Trace& trace) {
    try {
        Task<> t = current_task();
        trace("<Task>");
    } catch (const RuntimeError&) {
        trace("RuntimeError");
    }
}

}  // namespace

TEST_F(AsyncioCurrentTask, CurrentTaskIsTheRunningTaskAndRaisesOutsideATask) {
    Trace trace;
    print_current_task(trace);
    run(main_task(&trace));
    print_current_task(trace);

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "RuntimeError",
                               "True",
                               "RuntimeError",
                           }));
}

}  // namespace asyncio_current_task_test
