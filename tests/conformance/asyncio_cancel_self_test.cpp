// Port of micropython tests/extmod/asyncio_cancel_self.py
// Checks: a task cancelling itself raises RuntimeError("can't cancel self") inside that task
// (no CancelledError); the error reaches the awaiting main task and comes out of run().
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_cancel_self_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioCancelSelf = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> task(Task<>* global_task, Trace* trace) {
    (*trace)("task start");
    global_task->cancel();
    co_return;
}

Coro<> main_task(Task<>* global_task, Trace* trace) {
    *global_task = create_task(task(global_task, trace));
    try {
        Task<> t = *global_task;
        co_await t;
    } catch (const CancelledError&) {
        (*trace)("main cancel");
    }
    (*trace)("main done");
}

}  // namespace

TEST_F(AsyncioCancelSelf, CancellingTheCurrentTaskRaisesRuntimeError) {
    Trace trace;
    Task<> global_task;
    try {
        run(main_task(&global_task, &trace));
    } catch (const RuntimeError& er) {
        trace(er.what());
    }

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "task start",
                               "can't cancel self",
                           }));
}

}  // namespace asyncio_cancel_self_test
