// Condition: wait / wait_for / notify / notify_all, the lock re-acquired before wait returns
// (also when cancelled, at either blocking point), a shared Lock, misuse errors, destruction
// with waiters.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using ConditionTest = asyncio::testing::LoopTest;

namespace {

Coro<> waiter(Condition* c, Lines* out, std::string name) {
    auto guard = co_await *c;
    co_await c->wait();
    out->push_back(name + (c->locked() ? " woke holding the lock" : " woke WITHOUT the lock"));
}

// Records how a cancelled wait ends: CancelledError, with the lock held or not.
Coro<> cancellable_waiter(Condition* c, Lines* out, std::string name) {
    co_await c->acquire();
    try {
        co_await c->wait();
        out->push_back(name + " notified");
    } catch (const CancelledError&) {
        out->push_back(name + (c->locked() ? " cancelled holding the lock" : " cancelled WITHOUT the lock"));
        c->release();
        throw;
    }
    c->release();
}

}  // namespace

TEST_F(ConditionTest, WaitingOrNotifyingWithoutTheLockRaisesRuntimeError) {
    auto main = []() -> Coro<> {
        Condition c;
        try {
            co_await c.wait();
            ADD_FAILURE() << "no exception";
        } catch (const RuntimeError& e) {
            EXPECT_STREQ(e.what(), "cannot wait on un-acquired lock");
        }
        try {
            c.notify();
            ADD_FAILURE() << "no exception";
        } catch (const RuntimeError& e) {
            EXPECT_STREQ(e.what(), "cannot notify on un-acquired lock");
        }
        EXPECT_THROW(c.notify_all(), RuntimeError);
        EXPECT_THROW(co_await c.wait_for([] { return false; }), RuntimeError);
        EXPECT_FALSE(c.locked());
    };
    run(main());
}

TEST_F(ConditionTest, AcquireReleaseAndTheGuardWorkTheUnderlyingLock) {
    auto main = []() -> Coro<> {
        Condition c;
        co_await c.acquire();
        EXPECT_TRUE(c.locked());
        c.release();
        EXPECT_FALSE(c.locked());
        {
            auto guard = co_await c;
            EXPECT_TRUE(c.locked());
        }
        EXPECT_FALSE(c.locked());
        EXPECT_THROW(c.release(), RuntimeError);
    };
    run(main());
}

TEST_F(ConditionTest, NotifyWakesTheOldestWaitersEachReturningWithTheLock) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Condition c;
        Task<> a = create_task(waiter(&c, o, "a"));
        Task<> b = create_task(waiter(&c, o, "b"));
        Task<> d = create_task(waiter(&c, o, "d"));
        co_await sleep(0);
        EXPECT_FALSE(c.locked());  // every waiter released it
        {
            auto guard = co_await c;
            c.notify();
        }
        co_await a;
        {
            auto guard = co_await c;
            c.notify(2);
        }
        co_await gather(b, d);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a woke holding the lock", "b woke holding the lock", "d woke holding the lock"}));
}

TEST_F(ConditionTest, NotifyAllWakesEveryWaiterAndNotifyWithoutWaitersDoesNothing) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Condition c;
        {
            auto guard = co_await c;
            c.notify();  // nobody waits: nothing is remembered
        }
        std::vector<Task<>> t;
        for (int i = 0; i < 3; ++i) t.push_back(create_task(waiter(&c, o, std::to_string(i))));
        co_await sleep(0);
        {
            auto guard = co_await c;
            c.notify_all();
        }
        co_await gather(t);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"0 woke holding the lock", "1 woke holding the lock", "2 woke holding the lock"}));
}

TEST_F(ConditionTest, WaitForChecksThePredicateFirstAndGivesItsLastValue) {
    auto main = []() -> Coro<> {
        Condition c;
        int value = 0;
        int calls = 0;
        {
            auto guard = co_await c;
            int v = co_await c.wait_for([&] {
                ++calls;
                return 7;
            });
            EXPECT_EQ(v, 7);  // true at once: no wait
            EXPECT_EQ(calls, 1);
        }
        auto consumer = [](Condition* cc, int* val) -> Coro<int> {
            auto guard = co_await *cc;
            co_return co_await cc->wait_for([val] { return *val >= 3 ? *val : 0; });
        };
        Task<int> t = create_task(consumer(&c, &value));
        for (int i = 1; i <= 3; ++i) {
            co_await sleep(0);
            auto guard = co_await c;
            value = i;
            c.notify();
        }
        EXPECT_EQ(co_await t, 3);
    };
    run(main());
}

TEST_F(ConditionTest, AWaiterCancelledWhileWaitingRaisesOnlyOnceItHoldsTheLockAgain) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Condition c;
        Task<> w = create_task(cancellable_waiter(&c, o, "w"));
        co_await sleep(0);
        co_await c.acquire();  // hold the lock while w is cancelled
        w.cancel();
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_FALSE(w.done());  // still waiting for the lock
        o->push_back("main releases");
        c.release();
        EXPECT_THROW(co_await w, CancelledError);
        EXPECT_FALSE(c.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"main releases", "w cancelled holding the lock"}));
}

TEST_F(ConditionTest, AWaiterCancelledWhileTakingTheLockBackStillEndsHoldingIt) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Condition c;
        Task<> w = create_task(cancellable_waiter(&c, o, "w"));
        co_await sleep(0);
        co_await c.acquire();
        c.notify();  // w wakes, then queues for the lock we hold
        co_await sleep(0);
        co_await sleep(0);
        w.cancel();  // while it waits for the lock
        co_await sleep(0);
        EXPECT_FALSE(w.done());
        o->push_back("main releases");
        c.release();
        EXPECT_THROW(co_await w, CancelledError);
        EXPECT_FALSE(c.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"main releases", "w cancelled holding the lock"}));
}

TEST_F(ConditionTest, ANotificationReachingACancelledWaiterGoesToTheNextOne) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Condition c;
        Task<> a = create_task(cancellable_waiter(&c, o, "a"));
        Task<> b = create_task(cancellable_waiter(&c, o, "b"));
        co_await sleep(0);
        {
            auto guard = co_await c;
            c.notify();  // to a
            a.cancel();  // before a runs
        }
        EXPECT_THROW(co_await a, CancelledError);
        co_await b;  // got the notification a could not use
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a cancelled holding the lock", "b notified"}));
}

TEST_F(ConditionTest, ConditionsSharingALockUseItAndNotifyTheirOwnWaitersOnly) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Lock lock;
        Condition first(lock);
        Condition second(lock);
        Task<> a = create_task(waiter(&first, o, "first"));
        Task<> b = create_task(waiter(&second, o, "second"));
        co_await sleep(0);
        co_await lock.acquire();
        EXPECT_TRUE(first.locked());
        EXPECT_TRUE(second.locked());
        second.notify();  // the lock is held through the other condition: allowed
        lock.release();
        co_await b;
        EXPECT_FALSE(a.done());
        {
            auto guard = co_await first;
            first.notify();
        }
        co_await a;
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"second woke holding the lock", "first woke holding the lock"}));
}

TEST_F(ConditionTest, DestroyingAConditionWakesItsWaitersWithCancelledError) {
    Lines out;
    auto lock_waiter = [](Condition* c, Lock* lock, Lines* o, std::string name) -> Coro<> {
        co_await lock->acquire();
        try {
            co_await c->wait();
        } catch (const CancelledError&) {
            // The condition is gone: there is no wait to finish, so the lock is not taken back.
            o->push_back(name + (lock->locked() ? " cancelled, lock held" : " cancelled, lock free"));
            throw;
        }
        o->push_back(name + " notified");
        lock->release();
    };
    auto main = [lock_waiter](Lines* o) -> Coro<> {
        Lock lock;
        Task<> parked, notified;
        {
            Condition c(lock);
            notified = create_task(lock_waiter(&c, &lock, o, "notified"));
            parked = create_task(lock_waiter(&c, &lock, o, "parked"));
            co_await sleep(0);
            co_await lock.acquire();
            c.notify(1);  // notified is runnable but has not resumed yet
            lock.release();
        }
        EXPECT_THROW(co_await parked, CancelledError);
        EXPECT_THROW(co_await notified, CancelledError);
        EXPECT_FALSE(lock.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"notified cancelled, lock free", "parked cancelled, lock free"}));
}
