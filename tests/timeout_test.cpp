// timeout / timeout_at / Loop::time / shield: inline execution, which level times out,
// outside cancels, deadlines already past, every awaitable kind.
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;
using TimeoutTest = asyncio::testing::LoopTest;
using ShieldTest = asyncio::testing::LoopTest;

namespace {

constexpr std::int64_t kMs = 1'000'000;

Coro<int> value_after(int ms, int v) {
    co_await sleep_ms(ms);
    co_return v;
}

Coro<int> immediate(int v) { co_return v; }

Coro<> logged_sleep(Lines* out, std::string name, int ms) {
    try {
        co_await sleep_ms(ms);
        out->push_back(name + " finished");
    } catch (const CancelledError&) {
        out->push_back(name + " cancelled");
        throw;
    }
}

}  // namespace

TEST_F(TimeoutTest, GivesTheValueWhenTheAwaitableFinishesFirst) {
    auto main = []() -> Coro<> {
        Loop& loop = get_event_loop();
        EXPECT_EQ(co_await timeout(10.0, value_after(1, 1)), 1);
        EXPECT_EQ(co_await timeout(10s, value_after(1, 2)), 2);
        EXPECT_EQ(co_await timeout(std::nullopt, value_after(1, 3)), 3);
        EXPECT_EQ(co_await timeout_at(loop.time() + 10, value_after(1, 4)), 4);
        EXPECT_EQ(co_await timeout_at(std::chrono::steady_clock::now() + 10s, value_after(1, 5)), 5);
        EXPECT_EQ(co_await timeout_at(std::nullopt, value_after(1, 6)), 6);
        co_await timeout(10.0, sleep_ms(1));  // void
    };
    run(main());
}

TEST_F(TimeoutTest, RunsTheAwaitableInlineInTheCurrentTask) {
    auto main = []() -> Coro<> {
        Task<> self = current_task();
        std::size_t tasks = get_event_loop().task_count();
        auto probe = [](Task<> outer, std::size_t count) -> Coro<bool> {
            co_await sleep_ms(1);
            co_return current_task() == outer && get_event_loop().task_count() == count;
        };
        EXPECT_TRUE(co_await timeout(10.0, probe(self, tasks)));
    };
    run(main());
}

TEST_F(TimeoutTest, AtTheDeadlineCancelsTheAwaitableAndRaisesTimeoutError) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        std::int64_t start = detail::monotonic_ns();
        try {
            co_await timeout(0.02, logged_sleep(o, "inner", 10'000));
            ADD_FAILURE() << "expected TimeoutError";
        } catch (const TimeoutError&) {
            o->push_back("timeout");
        }
        std::int64_t took = detail::monotonic_ns() - start;
        EXPECT_GE(took, 20 * kMs);
        EXPECT_LT(took, 2000 * kMs);
        co_await sleep_ms(1);  // no cancel is left pending on the task
        o->push_back("after");
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"inner cancelled", "timeout", "after"}));
}

TEST_F(TimeoutTest, AcceptsTheLibrarysOwnAwaitables) {
    auto main = []() -> Coro<> {
        Event ev;
        EXPECT_THROW(co_await timeout(5ms, ev.wait()), TimeoutError);
        ev.set();
        EXPECT_TRUE(co_await timeout(5ms, ev.wait()));

        Lock lock;
        co_await lock.acquire();
        EXPECT_THROW(co_await timeout(5ms, lock.acquire()), TimeoutError);
        EXPECT_TRUE(lock.locked());  // still ours: the timed-out acquire took nothing
        lock.release();

        Task<int> t = create_task(value_after(10'000, 1));
        EXPECT_THROW(co_await timeout(5ms, t), TimeoutError);
        EXPECT_TRUE(t.done());  // the awaited task was cancelled with the awaiting one
        EXPECT_THROW(co_await t, CancelledError);
    };
    run(main());
}

TEST_F(TimeoutTest, ADeadlineAlreadyPastLetsTheAwaitableRunUntilItSuspends) {
    auto main = []() -> Coro<> {
        Loop& loop = get_event_loop();
        EXPECT_EQ(co_await timeout(0.0, immediate(1)), 1);
        EXPECT_EQ(co_await timeout(-5.0, immediate(2)), 2);
        EXPECT_EQ(co_await timeout_at(loop.time() - 1, immediate(3)), 3);
        EXPECT_THROW(co_await timeout(0.0, value_after(0, 4)), TimeoutError);  // suspends once
        EXPECT_THROW(co_await timeout_at(0.0, sleep(1.0)), TimeoutError);
        co_await sleep(0);  // the expired timers left nothing behind
    };
    run(main());
}

TEST_F(TimeoutTest, TheInnerOfNestedTimeoutsExpiresAtTheInnerLevel) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        auto body = [](Lines* o) -> Coro<int> {
            try {
                co_await timeout(0.005, sleep(10.0));
            } catch (const TimeoutError&) {
                o->push_back("inner timeout");
            }
            co_await sleep_ms(1);  // still inside the outer timeout, which is not affected
            co_return 7;
        };
        EXPECT_EQ(co_await timeout(10.0, body(o)), 7);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"inner timeout"}));
}

TEST_F(TimeoutTest, TheOuterOfNestedTimeoutsExpiresAtTheOuterLevelOnly) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        auto body = [](Lines* o) -> Coro<> {
            try {
                co_await timeout(10.0, sleep(10.0));
            } catch (const CancelledError&) {
                o->push_back("inner: CancelledError");
                throw;
            } catch (const TimeoutError&) {
                o->push_back("inner: TimeoutError");
                throw;
            }
        };
        try {
            co_await timeout(0.005, body(o));
        } catch (const TimeoutError&) {
            o->push_back("outer: TimeoutError");
        }
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"inner: CancelledError", "outer: TimeoutError"}));
}

TEST_F(TimeoutTest, NestedTimeoutsExpiringInTheSameStepRaiseAtTheOuterLevel) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        auto body = [](Lines* o) -> Coro<> {
            try {
                co_await timeout_at(0.0, sleep(10.0));  // armed after the outer one, same round
            } catch (const CancelledError&) {
                o->push_back("inner: CancelledError");
                throw;
            }
        };
        try {
            co_await timeout_at(0.0, body(o));
        } catch (const TimeoutError&) {
            o->push_back("outer: TimeoutError");
        }
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"inner: CancelledError", "outer: TimeoutError"}));
}

TEST_F(TimeoutTest, ACancelFromOutsideStaysCancelledError) {
    Lines out;
    auto worker = [](Lines* o) -> Coro<> {
        try {
            co_await timeout(10.0, sleep(10.0));
        } catch (const CancelledError&) {
            o->push_back("CancelledError");
            throw;
        }
    };
    auto main = [](Lines* o, decltype(worker) w) -> Coro<> {
        Task<> t = create_task(w(o));
        co_await sleep_ms(1);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
    };
    run(main(&out, worker));
    EXPECT_EQ(out, (Lines{"CancelledError"}));
}

TEST_F(TimeoutTest, AnOutsideCancelInTheStepTheDeadlinePassedStaysCancelledError) {
    // The deadline (at time 0) fires before the main task's next step; main then cancels the
    // worker too, before the worker runs: two requests, so the scope lets CancelledError out.
    for (bool outside_cancel : {true, false}) {
        Lines out;
        auto worker = [](Lines* o) -> Coro<> {
            try {
                co_await timeout_at(0.0, sleep(10.0));
            } catch (const CancelledError&) {
                o->push_back("CancelledError");
                throw;
            } catch (const TimeoutError&) {
                o->push_back("TimeoutError");
                throw;
            }
        };
        auto main = [](Lines* o, decltype(worker) w, bool cancel) -> Coro<> {
            Task<> t = create_task(w(o));
            co_await sleep(0);  // the worker arms its deadline and sleeps; the deadline fires
            if (cancel) t.cancel();
            try {
                co_await t;
            } catch (const CancelledError&) {
            } catch (const TimeoutError&) {
            }
        };
        run(main(&out, worker, outside_cancel));
        EXPECT_EQ(out, (Lines{outside_cancel ? "CancelledError" : "TimeoutError"}));
    }
}

TEST_F(TimeoutTest, AnAwaitableThatSwallowsTheCancelReturnsItsValue) {
    auto main = []() -> Coro<> {
        auto stubborn = []() -> Coro<int> {
            try {
                co_await sleep(10.0);
            } catch (const CancelledError&) {
                co_return 9;
            }
            co_return 0;
        };
        EXPECT_EQ(co_await timeout(0.002, stubborn()), 9);
        co_await sleep_ms(1);  // and the task is not left with a pending cancel
    };
    run(main());
}

TEST_F(TimeoutTest, AnExceptionOfTheAwaitablePropagatesAndDisarmsTheTimer) {
    auto main = []() -> Coro<> {
        auto fail = []() -> Coro<> {
            co_await sleep_ms(1);
            throw std::logic_error("boom");
        };
        EXPECT_THROW(co_await timeout(0.005, fail()), std::logic_error);
        co_await sleep_ms(20);  // the deadline has passed by now: it must not cancel us
    };
    run(main());
}

TEST_F(TimeoutTest, ATimeoutThatFinishedInTimeNeverFiresLater) {
    auto main = []() -> Coro<> {
        EXPECT_EQ(co_await timeout(0.005, immediate(1)), 1);
        EXPECT_EQ(co_await timeout(0.005, value_after(1, 2)), 2);
        co_await sleep_ms(20);
    };
    run(main());
}

TEST_F(TimeoutTest, ANaNDeadlineIsInvalid) {
    auto main = []() -> Coro<> {
        EXPECT_THROW(co_await timeout_at(std::nan(""), immediate(1)), std::invalid_argument);
    };
    run(main());
}

TEST_F(TimeoutTest, LoopTimeIsTheClockOfSleep) {
    auto main = []() -> Coro<> {
        Loop& loop = get_event_loop();
        double t0 = loop.time();
        co_await sleep(0.01);
        double t1 = loop.time();
        EXPECT_GE(t1 - t0, 0.01);
        EXPECT_LT(t1 - t0, 2.0);
    };
    run(main());
}

TEST_F(TimeoutTest, ManyTimeoutsInOneTaskLeaveNoTimerBehind) {
    auto main = []() -> Coro<> {
        for (int i = 0; i < 1000; ++i) EXPECT_EQ(co_await timeout(10.0, immediate(i)), i);
        for (int i = 0; i < 100; ++i) EXPECT_THROW(co_await timeout(0.0, sleep(1.0)), TimeoutError);
    };
    run(main());
}

TEST_F(TimeoutTest, ClosingTheLoopWhileATimeoutIsArmedIsClean) {
    auto worker = []() -> Coro<> { co_await timeout(10.0, sleep(10.0)); };
    auto main = [](decltype(worker) w) -> Coro<> {
        create_task(w());
        co_await sleep_ms(1);
    };
    run(main(worker));
    new_event_loop();  // destroys the worker's frame with its timer armed
    run(main(worker));
    get_event_loop().close();
}

// shield

TEST_F(ShieldTest, GivesTheValueOrTheException) {
    auto main = []() -> Coro<> {
        EXPECT_EQ(co_await shield(value_after(1, 3)), 3);
        auto fail = []() -> Coro<int> {
            co_await sleep(0);
            throw std::logic_error("boom");
        };
        EXPECT_THROW(co_await shield(fail()), std::logic_error);
        Event ev;
        ev.set();
        EXPECT_TRUE(co_await shield(ev.wait()));
    };
    run(main());
}

TEST_F(ShieldTest, CancellingTheAwaiterLeavesTheShieldedCoroRunning) {
    Lines out;
    auto shielded = [](Lines* o, Event* go) -> Coro<> {
        co_await go->wait();
        o->push_back("shielded finished");
    };
    auto waiter = [](Lines* o, Event* go, decltype(shielded) s) -> Coro<> {
        try {
            co_await shield(s(o, go));
        } catch (const CancelledError&) {
            o->push_back("waiter cancelled");
            throw;
        }
    };
    auto main = [](Lines* o, decltype(waiter) w, decltype(shielded) s) -> Coro<> {
        Event go;
        Task<> t = create_task(w(o, &go, s));
        co_await sleep(0);  // the waiter starts the shielded task and waits for it
        co_await sleep(0);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        go.set();  // the shielded task was not cancelled: it still finishes
        for (int i = 0; i < 3; ++i) co_await sleep(0);
    };
    run(main(&out, waiter, shielded));
    EXPECT_EQ(out, (Lines{"waiter cancelled", "shielded finished"}));
}

TEST_F(ShieldTest, AShieldedTaskSurvivesATimeout) {
    auto main = []() -> Coro<> {
        Event go;
        auto job = [](Event* g) -> Coro<int> {
            co_await g->wait();
            co_return 4;
        };
        Task<int> t = create_task(job(&go));
        EXPECT_THROW(co_await timeout(0.001, shield(t)), TimeoutError);
        EXPECT_FALSE(t.done());
        go.set();
        EXPECT_EQ(co_await t, 4);
    };
    run(main());
}

TEST_F(ShieldTest, AShieldedTaskCancelledByOthersRaisesCancelledError) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(10'000, 4));
        auto canceller = [](Task<int> victim) -> Coro<> {
            co_await sleep_ms(1);
            victim.cancel();
        };
        Task<> c = create_task(canceller(t));
        EXPECT_THROW(co_await shield(t), CancelledError);
        co_await c;
    };
    run(main());
}
