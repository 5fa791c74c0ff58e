// wait_for / wait_for_ms: success, timeout, cancellation from outside, timeout 0, awaitables.
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace wait_for_test {

using namespace asyncio;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;
using WaitForTest = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

constexpr std::int64_t kMs = 1'000'000;

Coro<int> value_after(int ms, int v) {
    co_await sleep_ms(ms);
    co_return v;
}

Coro<int> immediate(int v) { co_return v; }

Coro<int> raise_after(int ms) {
    co_await sleep_ms(ms);
    throw std::runtime_error("inner failed");
}

Coro<> logged_sleep(Lines* out, std::string name, int ms) {
    try {
        co_await sleep_ms(ms);
        out->push_back(name + " finished");
    } catch (const CancelledError&) {
        out->push_back(name + " cancelled");
        throw;
    }
}

Coro<int> ignore_cancel(Lines* out, int ms_after) {
    try {
        co_await sleep_ms(10'000);
    } catch (const CancelledError&) {
        out->push_back("ignore cancel");
    }
    co_await sleep_ms(ms_after);
    out->push_back("ignored done");
    co_return 5;
}

}  // namespace

TEST_F(WaitForTest, ReturnsTheValueWhenTheAwaitableFinishesFirst) {
    auto main = []() -> Coro<> {
        EXPECT_EQ(co_await wait_for(value_after(1, 7), 10.0), 7);
        EXPECT_EQ(co_await wait_for(value_after(1, 8), 10s), 8);
        EXPECT_EQ(co_await wait_for_ms(value_after(1, 9), 10'000), 9);
        EXPECT_EQ(co_await wait_for(value_after(1, 10), std::nullopt), 10);
    };
    run(main());
}

TEST_F(WaitForTest, TheWaitEndsAsSoonAsTheAwaitableFinishes) {
    auto main = []() -> Coro<std::int64_t> {
        std::int64_t start = detail::loop_clock_ns();
        co_await wait_for(value_after(10, 1), 5.0);
        co_return detail::loop_clock_ns() - start;
    };
    EXPECT_LT(run(main()), 1000 * kMs);  // not the 5 s timeout
}

TEST_F(WaitForTest, PropagatesTheAwaitablesException) {
    auto main = []() -> Coro<> { EXPECT_THROW(co_await wait_for(raise_after(1), 10.0), std::runtime_error); };
    run(main());
}

TEST_F(WaitForTest, OnTimeoutCancelsTheAwaitableThenRaisesTimeoutError) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        std::int64_t start = detail::loop_clock_ns();
        try {
            co_await wait_for_ms(logged_sleep(o, "inner", 10'000), 20);
            ADD_FAILURE() << "expected TimeoutError";
        } catch (const TimeoutError&) {
            o->push_back("timeout");
        }
        std::int64_t took = detail::loop_clock_ns() - start;
        EXPECT_GE(took, 20 * kMs);
        EXPECT_LT(took, 1000 * kMs);
    };
    run(main(&out));
    // The inner task has really ended (cancelled) before TimeoutError is raised.
    EXPECT_EQ(out, (Lines{"inner cancelled", "timeout"}));
}

TEST_F(WaitForTest, OnTimeoutWaitsForAnAwaitableThatIgnoresTheCancelAndStillRaises) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        EXPECT_THROW(co_await wait_for_ms(ignore_cancel(o, 10), 5), TimeoutError);
        o->push_back("after wait_for");
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"ignore cancel", "ignored done", "after wait_for"}));
}

TEST_F(WaitForTest, CancellingTheWaitForCancelsTheAwaitableAndReRaisesAtOnce) {
    Lines out;
    auto waiter = [](Lines* o) -> Coro<> {
        try {
            co_await wait_for(ignore_cancel(o, 5), 10.0);
        } catch (const CancelledError&) {
            o->push_back("wait_for cancelled");
            throw;
        }
    };
    auto main = [](Lines* o, decltype(waiter) w) -> Coro<> {
        Task<> t = create_task(w(o));
        co_await sleep_ms(5);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        co_await sleep_ms(30);  // let the inner task finish ignoring the cancel
    };
    run(main(&out, waiter));
    // MicroPython order: the outer cancellation re-raises before the inner task even sees its
    // CancelledError, and does not wait for it.
    EXPECT_EQ(out, (Lines{"wait_for cancelled", "ignore cancel", "ignored done"}));
}

TEST_F(WaitForTest, TimeoutZeroGivesTheAwaitableExactlyItsFirstStep) {
    auto main = []() -> Coro<> {
        EXPECT_EQ(co_await wait_for(immediate(3), 0.0), 3);  // completes in its first step
        EXPECT_EQ(co_await wait_for(immediate(4), -1.0), 4);
        EXPECT_THROW(co_await wait_for(value_after(0, 5), 0.0), TimeoutError);  // needs a yield
    };
    run(main());
}

TEST_F(WaitForTest, AFinishedTaskGivesItsOutcomeWhateverTheTimeout) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(immediate(6));
        co_await sleep(0);
        EXPECT_TRUE(t.done());
        EXPECT_EQ(co_await wait_for(t, 0.0), 6);
    };
    run(main());
}

TEST_F(WaitForTest, ACallerOwnedTaskThatTimesOutIsLeftCancelled) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(10'000, 1));
        EXPECT_THROW(co_await wait_for_ms(t, 5), TimeoutError);
        EXPECT_TRUE(t.done());
        EXPECT_THROW(co_await t, CancelledError);
    };
    run(main());
}

TEST_F(WaitForTest, AcceptsTheLibrarysOwnAwaitables) {
    auto main = []() -> Coro<> {
        Event ev;
        EXPECT_THROW(co_await wait_for_ms(ev.wait(), 5), TimeoutError);
        ev.set();
        EXPECT_TRUE(co_await wait_for_ms(ev.wait(), 5));

        Lock lock;
        co_await lock.acquire();
        EXPECT_THROW(co_await wait_for_ms(lock.acquire(), 5), TimeoutError);
        EXPECT_TRUE(lock.locked());  // still ours: the timed-out acquire took nothing
        lock.release();
        co_await wait_for_ms(lock.acquire(), 5);
        EXPECT_TRUE(lock.locked());
        lock.release();

        co_await wait_for(sleep_ms(1), 1.0);
        EXPECT_THROW(co_await wait_for(sleep(1.0), 0.005), TimeoutError);
    };
    run(main());
}

TEST_F(WaitForTest, TheRaceBetweenCompletionAndOutsideCancelEndsInCancelledError) {
    // MicroPython's num_sleep loop: whatever the interleaving, an outside cancel wins.
    auto waiter = [](int n) -> Coro<int> { co_return co_await wait_for(value_after(0, n), 10.0); };
    auto main = [](decltype(waiter) w) -> Coro<> {
        for (int yields = 0; yields < 4; ++yields) {
            Task<int> t = create_task(w(yields));
            for (int i = 0; i < yields; ++i) co_await sleep(0);
            bool cancelled = t.cancel();
            if (cancelled) {
                EXPECT_THROW(co_await t, CancelledError) << "yields=" << yields;
            } else {
                EXPECT_EQ(co_await t, yields);
            }
        }
    };
    run(main(waiter));
}

}  // namespace wait_for_test
