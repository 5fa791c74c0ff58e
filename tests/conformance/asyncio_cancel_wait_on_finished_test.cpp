// Port of micropython tests/extmod/asyncio_cancel_wait_on_finished.py
// Checks: cancelling a task that awaits a task which has just finished (so the waiter is woken
// but has not run yet) delivers CancelledError to the waiter instead of the result.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_cancel_wait_on_finished_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioCancelWaitOnFinished = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> sleep_task(Trace* trace) {
    (*trace)("sleep_task sleep");
    co_await sleep(0);
    (*trace)("sleep_task wake");
}

Coro<> wait_task(Task<> t, Trace* trace) {
    (*trace)("wait_task wait");
    co_await t;
    (*trace)("wait_task wake");
}

Coro<> main_task(Trace* trace) {
    Task<> waiting_task = create_task(wait_task(create_task(sleep_task(trace)), trace));

    (*trace)("main sleep");
    co_await sleep(0);
    (*trace)("main sleep");
    co_await sleep(0);

    waiting_task.cancel();
    (*trace)("main wait");
    try {
        co_await waiting_task;
    } catch (const CancelledError&) {
        (*trace)("CancelledError()");
    }
}

}  // namespace

TEST_F(AsyncioCancelWaitOnFinished, AWaiterCancelledAfterItsTaskFinishedGetsCancelledError) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "main sleep",
                               "sleep_task sleep",
                               "wait_task wait",
                               "main sleep",
                               "sleep_task wake",
                               "main wait",
                               "CancelledError()",
                           }));
}

}  // namespace asyncio_cancel_wait_on_finished_test
