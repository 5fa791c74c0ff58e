// Lock: acquire / release / locked, RAII guard, FIFO hand-off without barging, cancellation.
#include <asyncio/asyncio.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using LockTest = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> hold(Lock* lock, Lines* out, std::string name, int sleeps) {
    co_await lock->acquire();
    out->push_back(name + " acquired");
    for (int i = 0; i < sleeps; ++i) co_await sleep(0);
    out->push_back(name + " release");
    lock->release();
}

Coro<> guarded(Lock* lock, Lines* out, std::string name) {
    auto guard = co_await *lock;
    out->push_back(name + " in");
    co_await sleep(0);
    out->push_back(name + " out");
}

}  // namespace

TEST_F(LockTest, ALockStartsUnlockedAndAcquireWithoutContentionDoesNotSuspend) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Lock lock;
        EXPECT_FALSE(lock.locked());
        create_task([](Lines* oo) -> Coro<> {
            oo->push_back("other");
            co_return;
        }(o));
        co_await lock.acquire();
        o->push_back("acquired");  // before "other": no suspension
        EXPECT_TRUE(lock.locked());
        lock.release();
        EXPECT_FALSE(lock.locked());
        co_await sleep(0);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"acquired", "other"}));
}

TEST_F(LockTest, ReleaseHandsTheLockToTheOldestWaiter) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Lock lock;
        Task<> a = create_task(hold(&lock, o, "a", 2));
        Task<> b = create_task(hold(&lock, o, "b", 2));
        Task<> c = create_task(hold(&lock, o, "c", 2));
        co_await gather(a, b, c);
        EXPECT_FALSE(lock.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a acquired", "a release", "b acquired", "b release", "c acquired", "c release"}));
}

TEST_F(LockTest, ATaskArrivingDuringTheHandOffDoesNotBarge) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Lock lock;
        co_await lock.acquire();
        Task<> waiter = create_task(hold(&lock, o, "waiter", 0));
        co_await sleep(0);  // waiter queues
        lock.release();     // handed to waiter, which has not resumed yet
        EXPECT_FALSE(lock.locked());  // reserved, as in MicroPython
        Task<> late = create_task(hold(&lock, o, "late", 0));
        co_await gather(waiter, late);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"waiter acquired", "waiter release", "late acquired", "late release"}));
}

TEST_F(LockTest, ReleasingALockThatIsNotHeldRaises) {
    Lock lock;
    try {
        lock.release();
        FAIL() << "expected RuntimeError";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Lock not acquired");
    }
}

TEST_F(LockTest, ReleasingAReservedLockRaises) {
    auto main = []() -> Coro<> {
        Lock lock;
        Lines out;
        co_await lock.acquire();
        Task<> w = create_task(hold(&lock, &out, "w", 0));
        co_await sleep(0);
        lock.release();
        EXPECT_THROW(lock.release(), RuntimeError);  // reserved for w: not "locked"
        co_await w;
    };
    run(main());
}

TEST_F(LockTest, TheGuardReleasesAtScopeExit) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Lock lock;
        Task<> a = create_task(guarded(&lock, o, "a"));
        Task<> b = create_task(guarded(&lock, o, "b"));
        co_await gather(a, b);
        EXPECT_FALSE(lock.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a in", "a out", "b in", "b out"}));
}

TEST_F(LockTest, TheGuardReleasesOnExceptionAndTheExceptionPropagates) {
    auto body = [](Lock* lock) -> Coro<> {
        auto guard = co_await *lock;
        co_await sleep(0);
        throw std::runtime_error("inside");
    };
    auto main = [](decltype(body) b) -> Coro<> {
        Lock lock;
        EXPECT_THROW(co_await b(&lock), std::runtime_error);
        EXPECT_FALSE(lock.locked());
    };
    run(main(body));
}

TEST_F(LockTest, TheGuardReleasesWhenTheHolderIsCancelled) {
    auto body = [](Lock* lock) -> Coro<> {
        auto guard = co_await *lock;
        co_await sleep_ms(10'000);
    };
    auto main = [](decltype(body) b) -> Coro<> {
        Lock lock;
        Task<> t = create_task(b(&lock));
        co_await sleep(0);
        EXPECT_TRUE(lock.locked());
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        EXPECT_FALSE(lock.locked());
    };
    run(main(body));
}

TEST_F(LockTest, CancellingAQueuedWaiterRemovesItFromTheQueue) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Lock lock;
        Task<> a = create_task(hold(&lock, o, "a", 2));
        Task<> b = create_task(hold(&lock, o, "b", 1));
        Task<> c = create_task(hold(&lock, o, "c", 1));
        co_await sleep(0);
        b.cancel();
        EXPECT_THROW(co_await b, CancelledError);
        co_await a;
        co_await c;
        EXPECT_FALSE(lock.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a acquired", "a release", "c acquired", "c release"}));
}

TEST_F(LockTest, AWaiterCancelledAfterTheHandOffPassesTheLockOn) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Lock lock;
        co_await lock.acquire();
        Task<> b = create_task(hold(&lock, o, "b", 1));
        Task<> c = create_task(hold(&lock, o, "c", 1));
        co_await sleep(0);
        lock.release();  // handed to b...
        b.cancel();      // ...which is cancelled before it resumes
        EXPECT_THROW(co_await b, CancelledError);
        co_await c;
        EXPECT_FALSE(lock.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"c acquired", "c release"}));
}

TEST_F(LockTest, CancellingTwoOfFourWaitersKeepsTheLockConsistent) {
    // MicroPython's asyncio_lock_cancel.
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Lock lock;
        std::vector<Task<>> t;
        for (int i = 0; i < 4; ++i) t.push_back(create_task(hold(&lock, o, std::to_string(i), 1)));
        co_await sleep(0);
        t[1].cancel();
        t[2].cancel();
        auto r = co_await gather(return_exceptions, t);
        EXPECT_EQ(r[1].index(), 1u);
        EXPECT_EQ(r[2].index(), 1u);
        EXPECT_FALSE(lock.locked());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"0 acquired", "0 release", "3 acquired", "3 release"}));
}

TEST_F(LockTest, TeardownWhileAWaiterHoldsAHandOffLeavesTheLockUsable) {
    Lock lock;
    Lines out;
    auto main = [](Lock* l, Lines* o) -> Coro<> {
        co_await l->acquire();
        create_task(hold(l, o, "w", 0));
        co_await sleep(0);
        l->release();  // reserved for w, which will never run
    };
    run(main(&lock, &out));
    new_event_loop();  // destroys w's frame
    EXPECT_FALSE(lock.locked());
    run(hold(&lock, &out, "again", 0));
    EXPECT_EQ(out, (Lines{"again acquired", "again release"}));
}

// Issue 10 point 1: the waiters of a destroyed Lock used to resume into Lock::finish_wait and
// read (and write) the dead object. The Lock is on the heap so that ASan sees any such access.
TEST_F(LockTest, Issue10_DestroyingALockWithQueuedWaitersWakesThemCancelledWithoutTouchingIt) {
    auto main = []() -> Coro<> {
        Lines out;
        auto lock = std::make_unique<Lock>();
        co_await lock->acquire();
        Task<> a = create_task(hold(lock.get(), &out, "a", 0));
        Task<> b = create_task(guarded(lock.get(), &out, "b"));
        co_await sleep(0);  // both queued
        lock.reset();
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_THROW(co_await b, CancelledError);
        EXPECT_TRUE(out.empty());
    };
    run(main());
}

TEST_F(LockTest, Issue10_ATaskHandedALockThatIsDestroyedBeforeItRunsGetsCancelledError) {
    auto main = []() -> Coro<> {
        Lines out;
        auto lock = std::make_unique<Lock>();
        co_await lock->acquire();
        Task<> a = create_task(hold(lock.get(), &out, "a", 0));
        Task<> b = create_task(hold(lock.get(), &out, "b", 0));
        co_await sleep(0);
        b.cancel();        // b is runnable with its cancel pending, still owed a look at the lock
        lock->release();   // reserved for a, which has not resumed yet
        lock.reset();
        EXPECT_THROW(co_await a, CancelledError);  // it must not believe it holds a dead lock
        EXPECT_THROW(co_await b, CancelledError);
        EXPECT_TRUE(out.empty());
    };
    run(main());
}
