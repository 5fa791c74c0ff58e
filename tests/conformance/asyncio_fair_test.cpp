// Port of micropython tests/extmod/asyncio_fair.py
// Checks: scheduler fairness. Tasks that only yield (negative sleeps) do not starve tasks with
// periodic timed sleeps: over 0.45 s, the 0.1 s task works 5 times and the 0.18 s task 3 times,
// in deadline order.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_fair_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioFair = asyncio::testing::LoopTest;  // busy yielders: the loop is never idle, time is real

namespace {

// Upstream uses periods of 0.1 s and 0.18 s and a 0.45 s run. Every late wake-up pushes a
// task's later deadlines back (a sleep counts from when it is called), so the tightest margin
// upstream (the fifth "task work 2" at 0.4 s + accumulated lateness, before "finish" at 0.45 s)
// is 50 ms. All times are scaled by kScale so that the same interleaving holds on a loaded
// 2-core machine and under AddressSanitizer, where the busy-yielding tasks keep the process
// CPU-bound and each wake-up can be several ms late.
constexpr double kScale = 2.0;

Coro<> task(int id, double t, Trace* trace) {
    (*trace)("task start " + std::to_string(id));
    for (;;) {
        if (t > 0) (*trace)("task work " + std::to_string(id));
        co_await sleep(t);
    }
}

Coro<> main_task(Trace* trace) {
    Task<> t1 = create_task(task(1, -0.01, trace));
    Task<> t2 = create_task(task(2, 0.1 * kScale, trace));
    Task<> t3 = create_task(task(3, 0.18 * kScale, trace));
    Task<> t4 = create_task(task(4, -100, trace));
    co_await sleep(0.45 * kScale);  // t2 prints 5 times, t3 prints 3 times
    t1.cancel();
    t2.cancel();
    t3.cancel();
    t4.cancel();
    (*trace)("finish");
}

// One more round of the loop: lets it process what is still queued.
Coro<> yield_once() { co_await sleep(0); }

}  // namespace

TEST_F(AsyncioFair, YieldingTasksDoNotStarveTasksWithTimedSleeps) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "task start 1",
                               "task start 2",
                               "task work 2",
                               "task start 3",
                               "task work 3",
                               "task start 4",
                               "task work 2",
                               "task work 3",
                               "task work 2",
                               "task work 2",
                               "task work 3",
                               "task work 2",
                               "finish",
                           }));

    // Not upstream (the program exits there): the four cancelled tasks are still queued when
    // run() returns; one more round lets them end with CancelledError.
    run(yield_once());
    EXPECT_EQ(trace.lines.size(), 13u);
}

}  // namespace asyncio_fair_test
