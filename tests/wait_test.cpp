// wait / as_completed: each return_when, timeouts that cancel nothing, order, cancellation of
// the waiting task, misuse.
#include <asyncio/asyncio.hpp>

#include <list>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace wait_test {

using namespace asyncio;
using namespace std::chrono_literals;
using WaitTest = asyncio::testing::LoopTest;
using AsCompletedTest = asyncio::testing::LoopTest;

namespace {

Coro<int> value_after(int ms, int v) {
    co_await sleep_ms(ms);
    co_return v;
}

Coro<int> fail_after(int ms) {
    co_await sleep_ms(ms);
    throw std::runtime_error("failed");
}

std::vector<bool> done_flags(const std::vector<Task<int>>& tasks) {
    std::vector<bool> d;
    for (const Task<int>& t : tasks) d.push_back(t.done());
    return d;
}

}  // namespace

TEST_F(WaitTest, AllCompletedWaitsForEveryTaskAndKeepsTheOrderGiven) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> tasks{create_task(value_after(20, 1)), create_task(value_after(1, 2)),
                                     create_task(value_after(5, 3))};
        auto [done, pending] = co_await wait(tasks);
        EXPECT_TRUE(pending.empty());
        EXPECT_EQ(done, tasks);  // the order given, not the order they finished
        EXPECT_EQ(co_await done[0], 1);
    };
    run(main());
}

TEST_F(WaitTest, FirstCompletedReturnsWhenOneTaskFinishes) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> tasks{create_task(value_after(10'000, 1)), create_task(value_after(1, 2))};
        auto [done, pending] = co_await wait(tasks, FIRST_COMPLETED);
        EXPECT_EQ(done, std::vector<Task<int>>{tasks[1]});
        EXPECT_EQ(pending, std::vector<Task<int>>{tasks[0]});
        EXPECT_FALSE(tasks[0].done());  // nothing is cancelled
        tasks[0].cancel();
        co_await sleep(0);
    };
    run(main());
}

TEST_F(WaitTest, FirstExceptionReturnsOnAFailureButNotOnASuccessOrACancel) {
    auto main = []() -> Coro<> {
        Task<int> slow = create_task(value_after(10'000, 1));
        Task<int> ok = create_task(value_after(1, 2));
        Task<int> cancelled = create_task(value_after(10'000, 3));
        Task<int> bad = create_task(fail_after(5));
        cancelled.cancel();
        std::vector<Task<int>> tasks{slow, ok, cancelled, bad};
        auto [done, pending] = co_await wait(tasks, FIRST_EXCEPTION);
        EXPECT_EQ(done_flags(tasks), (std::vector<bool>{false, true, true, true}));
        EXPECT_EQ(done.size(), 3u);
        EXPECT_EQ(pending, std::vector<Task<int>>{slow});
        EXPECT_THROW(co_await bad, std::runtime_error);
        slow.cancel();
        co_await sleep(0);
    };
    run(main());
}

TEST_F(WaitTest, FirstExceptionWithoutAFailureWaitsForAll) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> tasks{create_task(value_after(1, 1)), create_task(value_after(3, 2))};
        auto [done, pending] = co_await wait(tasks, FIRST_EXCEPTION);
        EXPECT_EQ(done.size(), 2u);
        EXPECT_TRUE(pending.empty());
    };
    run(main());
}

TEST_F(WaitTest, ATimeoutReturnsThePendingTasksAndCancelsNothing) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> tasks{create_task(value_after(10'000, 1)), create_task(value_after(0, 2))};
        auto [done, pending] = co_await wait(tasks, ALL_COMPLETED, 0.005);
        EXPECT_EQ(done, std::vector<Task<int>>{tasks[1]});
        EXPECT_EQ(pending, std::vector<Task<int>>{tasks[0]});
        EXPECT_FALSE(tasks[0].done());
        auto r2 = co_await wait(tasks, ALL_COMPLETED, 5ms);
        EXPECT_EQ(r2.pending.size(), 1u);
        auto r3 = co_await wait(tasks, FIRST_COMPLETED, 0.0);  // already holds: no wait at all
        EXPECT_EQ(r3.done.size(), 1u);
        std::vector<Task<int>> slow{tasks[0]};  // named: g++ 12 and braced temporaries (pitfalls)
        auto r4 = co_await wait(slow, ALL_COMPLETED, 0.0);  // yields once
        EXPECT_EQ(r4.pending.size(), 1u);
        tasks[0].cancel();
        auto r5 = co_await wait(tasks, ALL_COMPLETED, std::nullopt);
        EXPECT_EQ(r5.done.size(), 2u);
    };
    run(main());
}

TEST_F(WaitTest, CancellingTheWaitingTaskLeavesTheTasksRunning) {
    auto main = []() -> Coro<> {
        Event go;
        auto job = [](Event* g) -> Coro<int> {
            co_await g->wait();
            co_return 1;
        };
        std::vector<Task<int>> tasks{create_task(job(&go))};
        auto waiter = [](std::vector<Task<int>> ts) -> Coro<> { co_await wait(ts, ALL_COMPLETED, 10.0); };
        Task<> w = create_task(waiter(tasks));
        co_await sleep(0);
        w.cancel();
        EXPECT_THROW(co_await w, CancelledError);
        EXPECT_FALSE(tasks[0].done());
        go.set();
        EXPECT_EQ(co_await tasks[0], 1);
    };
    run(main());
}

TEST_F(WaitTest, AcceptsAnyRangeOfTasks) {
    auto main = []() -> Coro<> {
        std::list<Task<int>> tasks{create_task(value_after(1, 1)), create_task(value_after(2, 2))};
        auto [done, pending] = co_await wait(tasks);
        EXPECT_EQ(done.size(), 2u);
        std::vector<Task<>> erased{create_task(value_after(1, 1))};
        auto r = co_await wait(erased, FIRST_COMPLETED);
        EXPECT_EQ(r.done.size(), 1u);
    };
    run(main());
}

TEST_F(WaitTest, AnEmptyRangeOrABadReturnWhenIsInvalid) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> none;
        try {
            co_await wait(none);
            ADD_FAILURE() << "expected std::invalid_argument";
        } catch (const std::invalid_argument& e) {
            EXPECT_STREQ(e.what(), "Set of Tasks/Futures is empty.");
        }
        std::vector<Task<int>> one{create_task(value_after(0, 1))};
        try {
            co_await wait(one, static_cast<ReturnWhen>(7));
            ADD_FAILURE() << "expected std::invalid_argument";
        } catch (const std::invalid_argument& e) {
            EXPECT_STREQ(e.what(), "Invalid return_when value: 7");
        }
        co_await one[0];
    };
    run(main());
}

// as_completed

TEST_F(AsCompletedTest, GivesTheTasksInTheOrderTheyFinish) {
    auto main = []() -> Coro<> {
        auto after_yields = [](int yields, int v) -> Coro<int> {
            for (int i = 0; i < yields; ++i) co_await sleep(0);
            co_return v;
        };
        std::vector<Task<int>> tasks{create_task(after_yields(9, 1)), create_task(after_yields(1, 2)),
                                     create_task(after_yields(5, 3))};
        std::vector<int> order;
        auto next = as_completed(tasks);
        while (auto t = co_await next()) {
            EXPECT_TRUE(t->done());
            order.push_back(co_await *t);
        }
        EXPECT_EQ(order, (std::vector<int>{2, 3, 1}));
        EXPECT_FALSE(co_await next());  // stays exhausted
    };
    run(main());
}

TEST_F(AsCompletedTest, FinishedTasksComeFirstInTheOrderGivenAndFailuresAreGivenToo) {
    auto main = []() -> Coro<> {
        Task<int> a = create_task(value_after(0, 1));
        Task<int> b = create_task(fail_after(0));
        Task<int> c = create_task(value_after(1, 3));
        co_await sleep_ms(0);
        co_await sleep_ms(0);
        EXPECT_TRUE(a.done() && b.done());
        std::vector<Task<int>> given{c, b, a};
        auto next = as_completed(given);
        auto first = co_await next();
        EXPECT_EQ(*first, b);
        EXPECT_THROW(co_await *first, std::runtime_error);
        EXPECT_EQ(*co_await next(), a);
        EXPECT_EQ(*co_await next(), c);
        EXPECT_FALSE(co_await next());
    };
    run(main());
}

TEST_F(AsCompletedTest, AtTheDeadlineEachRemainingCallRaisesTimeoutError) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> tasks{create_task(value_after(1, 1)), create_task(value_after(10'000, 2)),
                                     create_task(value_after(10'000, 3))};
        auto next = as_completed(tasks, 0.02);
        EXPECT_EQ(co_await *co_await next(), 1);
        EXPECT_THROW(co_await next(), TimeoutError);
        EXPECT_THROW(co_await next(), TimeoutError);
        EXPECT_FALSE(co_await next());
        EXPECT_FALSE(tasks[1].done());  // nothing was cancelled
        tasks[1].cancel();
        tasks[2].cancel();
        co_await sleep(0);
    };
    run(main());
}

TEST_F(AsCompletedTest, CancellingTheAwaiterOfNextLosesNothing) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> tasks{create_task(value_after(5, 1))};
        auto next = as_completed(tasks, 10s);
        auto waiter = [](decltype(next)* n) -> Coro<> { co_await (*n)(); };
        Task<> w = create_task(waiter(&next));
        co_await sleep(0);
        w.cancel();
        EXPECT_THROW(co_await w, CancelledError);
        auto t = co_await next();
        EXPECT_EQ(co_await *t, 1);
        EXPECT_FALSE(co_await next());
    };
    run(main());
}

TEST_F(AsCompletedTest, AnEmptyRangeEndsAtOnce) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> none;
        auto next = as_completed(none, std::nullopt);
        EXPECT_FALSE(co_await next());
    };
    run(main());
}

}  // namespace wait_test
