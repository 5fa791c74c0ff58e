// Port of micropython tests/extmod/asyncio_wait_for_fwd.py
// Checks: cancelling a task blocked in wait_for forwards the cancel to the awaitable (which
// sees CancelledError, whether it re-raises it or returns), and the wait_for re-raises
// CancelledError in the cancelled task (which may swallow it). Four combinations, each in its
// own run().
#include <asyncio/asyncio.hpp>

#include <exception>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_wait_for_fwd_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioWaitForFwd = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<bool> awaiting(double t, bool return_if_fail, Trace* trace) {
    try {
        (*trace)("awaiting started");
        co_await sleep(t);
    } catch (const CancelledError&) {
        // CPython wait_for raises CancelledError inside task but TimeoutError in wait_for
        (*trace)("awaiting canceled");
        if (return_if_fail) {
            co_return false;  // return has no effect if Cancelled
        } else {
            throw;
        }
    } catch (const std::exception& er) {
        (*trace)(std::string("caught exception ") + er.what());
        throw;
    }
    co_return true;
}

// Upstream's nested `async def wait()` and `async def cancel(t)`, as free functions.
Coro<> wait(bool catch_, bool catch_inside, Trace* trace) {
    try {
        co_await wait_for(awaiting(2, catch_inside, trace), 1.0);
    } catch (const TimeoutError&) {
        (*trace)("Got timeout error");
        throw;
    } catch (const CancelledError&) {
        (*trace)("Got canceled");
        if (!catch_) throw;
    }
}

Coro<> cancel(Task<> t, Trace* trace) {
    (*trace)("cancel started");
    co_await sleep(0.01);
    (*trace)("cancel wait()");
    t.cancel();
}

Coro<> test_cancellation_forwarded(bool catch_, bool catch_inside, Trace* trace) {
    (*trace)("----------");

    Task<> t = create_task(wait(catch_, catch_inside, trace));
    Task<> k = create_task(cancel(t, trace));
    try {
        co_await t;
    } catch (const CancelledError&) {
        (*trace)("waiting got cancelled");
    }
    // Not in upstream: k has finished already (it cancelled t); awaiting it leaves no task behind.
    co_await k;
}

}  // namespace

TEST_F(AsyncioWaitForFwd, CancellingATaskInWaitForForwardsTheCancelToTheAwaitable) {
    Trace trace;
    run(test_cancellation_forwarded(false, false, &trace));
    run(test_cancellation_forwarded(false, true, &trace));
    run(test_cancellation_forwarded(true, true, &trace));
    run(test_cancellation_forwarded(true, false, &trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "----------",
                               "cancel started",
                               "awaiting started",
                               "cancel wait()",
                               "Got canceled",
                               "awaiting canceled",
                               "waiting got cancelled",
                               "----------",
                               "cancel started",
                               "awaiting started",
                               "cancel wait()",
                               "Got canceled",
                               "awaiting canceled",
                               "waiting got cancelled",
                               "----------",
                               "cancel started",
                               "awaiting started",
                               "cancel wait()",
                               "Got canceled",
                               "awaiting canceled",
                               "----------",
                               "cancel started",
                               "awaiting started",
                               "cancel wait()",
                               "Got canceled",
                               "awaiting canceled",
                           }));
}

}  // namespace asyncio_wait_for_fwd_test
