// Semaphore, BoundedSemaphore: counting, FIFO hand-off without barging, cancellation at the
// blocking point (before and after a hand-off), guards, misuse errors, destruction with waiters.
#include <asyncio/asyncio.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using SemaphoreTest = asyncio::testing::LoopTest;

namespace {

Coro<> hold(Semaphore* sem, Lines* out, std::string name, int sleeps) {
    co_await sem->acquire();
    out->push_back(name + " in");
    for (int i = 0; i < sleeps; ++i) co_await sleep(0);
    out->push_back(name + " out");
    sem->release();
}

Coro<> take(Semaphore* sem, Lines* out, std::string name) {
    co_await sem->acquire();
    out->push_back(name + " acquired");
}

}  // namespace

TEST_F(SemaphoreTest, AcquireTakesPermitsWithoutSuspendingUntilNoneIsLeft) {
    auto main = []() -> Coro<> {
        Semaphore sem(2);
        EXPECT_FALSE(sem.locked());
        EXPECT_TRUE(co_await sem.acquire());
        EXPECT_FALSE(sem.locked());
        co_await sem.acquire();
        EXPECT_TRUE(sem.locked());
        sem.release();
        EXPECT_FALSE(sem.locked());
        sem.release();
        sem.release();  // a plain Semaphore may go above its start value
        co_await sem.acquire();
        co_await sem.acquire();
        co_await sem.acquire();
        EXPECT_TRUE(sem.locked());
    };
    run(main());
}

TEST_F(SemaphoreTest, AtMostNTasksHoldItAndWaitersGetInInArrivalOrder) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Semaphore sem(2);
        std::vector<Task<>> t;
        for (int i = 0; i < 5; ++i) t.push_back(create_task(hold(&sem, o, std::to_string(i), 2)));
        co_await gather(t);
        EXPECT_FALSE(sem.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"0 in", "1 in", "0 out", "1 out", "2 in", "3 in", "2 out", "3 out", "4 in", "4 out"}));
}

TEST_F(SemaphoreTest, ANewcomerCannotTakeAPermitHandedToAWaiter) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Semaphore sem(1);
        co_await sem.acquire();
        Task<> waiter = create_task(take(&sem, o, "waiter"));
        co_await sleep(0);
        sem.release();  // handed to waiter, which has not run yet
        EXPECT_TRUE(sem.locked());
        Task<> newcomer = create_task(take(&sem, o, "newcomer"));
        co_await waiter;
        co_await sleep(0);
        EXPECT_FALSE(newcomer.done());  // queued behind
        sem.release();
        co_await newcomer;
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"waiter acquired", "newcomer acquired"}));
}

TEST_F(SemaphoreTest, AWaiterCancelledWhileQueuedLeavesTheCountAlone) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Semaphore sem(0);
        Task<> a = create_task(take(&sem, o, "a"));
        Task<> b = create_task(take(&sem, o, "b"));
        co_await sleep(0);
        a.cancel();
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_TRUE(sem.locked());
        sem.release();
        co_await b;
        EXPECT_TRUE(sem.locked());  // b holds the only permit
        sem.release();
        EXPECT_FALSE(sem.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"b acquired"}));
}

TEST_F(SemaphoreTest, AWaiterCancelledAfterTheHandOffPassesThePermitOn) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Semaphore sem(0);
        Task<> a = create_task(take(&sem, o, "a"));
        Task<> b = create_task(take(&sem, o, "b"));
        co_await sleep(0);
        sem.release();  // handed to a
        a.cancel();     // before a runs
        EXPECT_THROW(co_await a, CancelledError);
        co_await b;
        EXPECT_TRUE(sem.locked());
        sem.release();
        EXPECT_FALSE(sem.locked());
        co_await sem.acquire();  // exactly one permit exists
        EXPECT_TRUE(sem.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"b acquired"}));
}

TEST_F(SemaphoreTest, APermitHandedToACancelledWaiterIsFreeAgainWhenNobodyElseWaits) {
    auto main = []() -> Coro<> {
        Lines o;
        Semaphore sem(0);
        Task<> a = create_task(take(&sem, &o, "a"));
        co_await sleep(0);
        sem.release();
        a.cancel();
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_FALSE(sem.locked());
        co_await sem.acquire();
        EXPECT_TRUE(sem.locked());
    };
    run(main());
}

TEST_F(SemaphoreTest, WaitForAroundAcquireTimesOutAndLeavesNoWaiter) {
    auto main = []() -> Coro<> {
        Semaphore sem(0);
        EXPECT_THROW(co_await wait_for_ms(sem.acquire(), 5), TimeoutError);
        sem.release();
        EXPECT_FALSE(sem.locked());  // nobody took it
        EXPECT_TRUE(co_await wait_for_ms(sem.acquire(), 1000));
    };
    run(main());
}

TEST_F(SemaphoreTest, TheGuardReleasesOnScopeExitExceptionAndCancellation) {
    auto main = []() -> Coro<> {
        Semaphore sem(1);
        {
            auto guard = co_await sem;
            EXPECT_TRUE(sem.locked());
        }
        EXPECT_FALSE(sem.locked());
        auto failing = [](Semaphore* s) -> Coro<> {
            auto guard = co_await *s;
            throw std::runtime_error("boom");
        };
        EXPECT_THROW(co_await failing(&sem), std::runtime_error);
        EXPECT_FALSE(sem.locked());
        auto sleeper = [](Semaphore* s) -> Coro<> {
            auto guard = co_await *s;
            co_await sleep(3600);
        };
        Task<> t = create_task(sleeper(&sem));
        co_await sleep(0);
        EXPECT_TRUE(sem.locked());
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        EXPECT_FALSE(sem.locked());
    };
    run(main());
}

TEST_F(SemaphoreTest, ANegativeInitialValueIsRejected) {
    try {
        Semaphore sem(-1);
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "Semaphore initial value must be >= 0");
    }
    EXPECT_THROW(BoundedSemaphore(-1), std::invalid_argument);
}

TEST_F(SemaphoreTest, ABoundedSemaphoreRefusesToGoAboveItsStartValue) {
    auto main = []() -> Coro<> {
        BoundedSemaphore sem(2);
        try {
            sem.release();
            ADD_FAILURE() << "no exception";
        } catch (const std::invalid_argument& e) {
            EXPECT_STREQ(e.what(), "BoundedSemaphore released too many times");
        }
        co_await sem.acquire();
        sem.release();
        EXPECT_THROW(sem.release(), std::invalid_argument);
        Semaphore& plain = sem;  // the check holds through the base class too
        EXPECT_THROW(plain.release(), std::invalid_argument);
        EXPECT_FALSE(sem.locked());
        co_await sem.acquire();
        co_await sem.acquire();
        EXPECT_TRUE(sem.locked());
    };
    run(main());
}

TEST_F(SemaphoreTest, DestroyingASemaphoreWakesItsWaitersWithCancelledError) {
    auto main = []() -> Coro<> {
        Lines o;
        Task<> parked, handed;
        {
            Semaphore sem(0);
            handed = create_task(take(&sem, &o, "handed"));
            parked = create_task(take(&sem, &o, "parked"));
            co_await sleep(0);
            sem.release();  // handed is runnable but has not resumed yet
        }
        EXPECT_THROW(co_await parked, CancelledError);
        EXPECT_THROW(co_await handed, CancelledError);
        EXPECT_TRUE(o.empty());
    };
    run(main());
}

TEST_F(SemaphoreTest, LoopTeardownWithAHandedPermitGivesItBack) {
    Semaphore sem(0);
    Lines out;
    auto main = [](Semaphore* s, Lines* o) -> Coro<> {
        create_task(take(s, o, "w"));
        co_await sleep(0);
        s->release();  // handed to w, which will never run
    };
    run(main(&sem, &out));
    new_event_loop();  // destroys w's frame
    EXPECT_FALSE(sem.locked());
    run(take(&sem, &out, "again"));
    EXPECT_EQ(out, (Lines{"again acquired"}));
}

TEST_F(SemaphoreTest, ManyTasksThroughASmallSemaphoreNeverExceedItsLimit) {
    auto main = []() -> Coro<> {
        Semaphore sem(3);
        int inside = 0;
        int most = 0;
        auto worker = [](Semaphore* s, int* in, int* mx) -> Coro<> {
            auto guard = co_await *s;
            ++*in;
            if (*in > *mx) *mx = *in;
            co_await sleep(0);
            --*in;
        };
        std::vector<Task<>> t;
        for (int i = 0; i < 200; ++i) t.push_back(create_task(worker(&sem, &inside, &most)));
        co_await gather(t);
        EXPECT_EQ(most, 3);
        EXPECT_EQ(inside, 0);
        EXPECT_FALSE(sem.locked());
    };
    run(main());
}
