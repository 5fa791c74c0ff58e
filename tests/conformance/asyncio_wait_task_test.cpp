// Port of micropython tests/extmod/asyncio_wait_task.py
// Checks: awaiting a task: a fresh one, one already finished, the same finished one twice; two
// tasks sleeping 0.2 s and 0.4 s run concurrently while awaited in turn; awaiting a task that
// raises rethrows its exception, also when the await comes several rounds after it raised (with
// a handler set to silence the "wasn't retrieved" report).
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_wait_task_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioWaitTask = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

using Clock = asyncio::testing::LoopClock;  // the loop's (virtual) clock
using std::chrono::milliseconds;

class ValueError : public std::runtime_error {
public:
    ValueError() : std::runtime_error("ValueError") {}
};

struct Durations {
    Clock::duration first{};   // t1 - t0: until the 0.2 s task is done
    Clock::duration second{};  // t2 - t1: then until the 0.4 s task is done
};

Coro<> task(int t, Trace* trace) {
    (*trace)("task " + std::to_string(t));
    co_return;
}

Coro<> delay_print(double t, std::string s, Trace* trace) {
    co_await sleep(t);
    (*trace)(std::move(s));
}

Coro<> task_raise(Trace* trace) {
    (*trace)("task_raise");
    throw ValueError();
    co_return;
}

void ignore_exception(Loop&, const ExceptionContext&) {}

Coro<> main_task(Trace* trace, Durations* took) {
    (*trace)("start");

    // Wait on a task
    Task<> t = create_task(task(1, trace));
    co_await t;

    // Wait on a task that's already done
    t = create_task(task(2, trace));
    co_await sleep(0.001);
    co_await t;

    // Wait again on same task
    co_await t;

    (*trace)("----");

    // Create 2 tasks
    Task<> ts1 = create_task(delay_print(0.2, "hello", trace));
    Task<> ts2 = create_task(delay_print(0.4, "world", trace));

    // Time how long the tasks take to finish, they should execute in parallel
    (*trace)("start");
    auto t0 = Clock::now();
    co_await ts1;
    auto t1 = Clock::now();
    co_await ts2;
    auto t2 = Clock::now();
    // Upstream prints "took 200 200" (rounded to 100 ms); checked with bounds by the test.
    took->first = t1 - t0;
    took->second = t2 - t1;

    // Wait on a task that raises an exception
    t = create_task(task_raise(trace));
    try {
        co_await t;
    } catch (const ValueError&) {
        (*trace)("ValueError");
    }

    // Wait on a task that raises, but the waiting is done some time later.
    // Need to suppress the "Task exception wasn't retrieved" message.
    get_event_loop().set_exception_handler(ignore_exception);
    t = create_task(task_raise(trace));
    for (int i = 0; i < 5; ++i) co_await sleep(0);
    try {
        co_await t;
    } catch (const ValueError&) {
        (*trace)("ValueError");
    }
}

}  // namespace

TEST_F(AsyncioWaitTask, AwaitingATaskWaitsForItOrGivesItsOutcomeAtOnceIfFinished) {
    Trace trace;
    Durations took;
    run(main_task(&trace, &took));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "start",
                               "task 1",
                               "task 2",
                               "----",
                               "start",
                               "hello",
                               "world",
                               "task_raise",
                               "ValueError",
                               "task_raise",
                               "ValueError",
                           }));
    // Both sleeps started together: 0.2 s to the first, 0.2 s more to the second (not 0.4 s).
    // Generous upper margins: a loaded 2-core machine, AddressSanitizer.
    EXPECT_GE(took.first, milliseconds(200));
    EXPECT_LT(took.first, milliseconds(200 + 150));
    EXPECT_GE(took.first + took.second, milliseconds(400));
    EXPECT_LT(took.first + took.second, milliseconds(400 + 150));
    EXPECT_LT(took.second, milliseconds(200 + 150));
}

}  // namespace asyncio_wait_task_test
