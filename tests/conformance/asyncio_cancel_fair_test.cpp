// Port of micropython tests/extmod/asyncio_cancel_fair.py
// Checks: fairness of cancelling a task. Two tasks that keep cancelling each other do not take
// over the scheduler: a third task that only yields still gets its turns, round-robin.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_cancel_fair_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioCancelFair = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

constexpr int kNone = -1;

Coro<> task(int id, int other, std::vector<Task<>>* tasks, Trace* trace) {
    for (int i = 0; i < 3; ++i) {
        try {
            (*trace)("start " + std::to_string(id));
            co_await sleep(0);
            (*trace)("done " + std::to_string(id));
        } catch (const CancelledError&) {
            (*trace)("cancelled " + std::to_string(id));
        }
        if (other != kNone) {
            (*trace)(std::to_string(id) + " cancels " + std::to_string(other));
            (*tasks)[static_cast<std::size_t>(other)].cancel();
        }
    }
}

Coro<> main_task(std::vector<Task<>>* tasks, Trace* trace) {
    tasks->push_back(create_task(task(0, 1, tasks, trace)));
    tasks->push_back(create_task(task(1, 0, tasks, trace)));
    tasks->push_back(create_task(task(2, kNone, tasks, trace)));
    Task<> last = (*tasks)[2];
    co_await last;
}

}  // namespace

TEST_F(AsyncioCancelFair, TasksCancellingEachOtherDoNotStarveAThirdTask) {
    Trace trace;
    std::vector<Task<>> tasks;
    run(main_task(&tasks, &trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "start 0",
                               "start 1",
                               "start 2",
                               "done 0",
                               "0 cancels 1",
                               "start 0",
                               "cancelled 1",
                               "1 cancels 0",
                               "start 1",
                               "done 2",
                               "start 2",
                               "cancelled 0",
                               "0 cancels 1",
                               "start 0",
                               "cancelled 1",
                               "1 cancels 0",
                               "start 1",
                               "done 2",
                               "start 2",
                               "cancelled 0",
                               "0 cancels 1",
                               "cancelled 1",
                               "1 cancels 0",
                               "done 2",
                           }));
    for (const Task<>& t : tasks) EXPECT_TRUE(t.done());
}

}  // namespace asyncio_cancel_fair_test
