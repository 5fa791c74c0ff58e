// Port of micropython tests/extmod/asyncio_await_return.py
// Checks: a coroutine's return value is delivered both when the coroutine is awaited directly
// and when a task wrapping it is awaited.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_await_return_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioAwaitReturn = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<int> foo() { co_return 42; }

Coro<> main_task(Trace* trace) {
    // Call function directly via an await
    int direct = co_await foo();
    (*trace)(std::to_string(direct));

    // Create a task and await on it
    Task<int> task = create_task(foo());
    int from_task = co_await task;
    (*trace)(std::to_string(from_task));
}

}  // namespace

TEST_F(AsyncioAwaitReturn, AwaitingACoroOrItsTaskGivesTheReturnValue) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{"42", "42"}));
}

}  // namespace asyncio_await_return_test
