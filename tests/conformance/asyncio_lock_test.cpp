// Port of micropython tests/extmod/asyncio_lock.py
// Checks: Lock acquire/release/locked(); the `async with lock:` form (a LockGuard); FIFO
// hand-off between three tasks looping on the lock; two sleeping holders (locked() reads false
// while the lock is handed to a waiter that has not resumed yet); a waiter cancelled after the
// hand-off passes the lock on; waiters cancelled while queued or while holding the lock leave
// it unlocked.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_lock_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioLock = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

std::string str(bool b) { return b ? "True" : "False"; }

Coro<> task_loop(int id, Lock* lock, Trace* trace) {
    (*trace)("task start " + std::to_string(id));
    for (int i = 0; i < 3; ++i) {
        auto guard = co_await *lock;  // async with lock:
        (*trace)("task have " + std::to_string(id) + " " + std::to_string(i));
    }
    (*trace)("task end " + std::to_string(id));
}

Coro<> task_sleep(Lock* lock, Trace* trace) {
    {
        auto guard = co_await *lock;
        (*trace)("task have " + str(lock->locked()));
        co_await sleep(0.2);
    }
    (*trace)("task release " + str(lock->locked()));
    co_await lock->acquire();
    (*trace)("task have again");
    lock->release();
}

Coro<> task_cancel(int id, Lock* lock, Task<>* to_cancel, Trace* trace) {
    try {
        {
            auto guard = co_await *lock;
            (*trace)("task got " + std::to_string(id));
            co_await sleep(0.1);
        }
        (*trace)("task release " + std::to_string(id));
        if (to_cancel != nullptr) to_cancel->cancel();
    } catch (const CancelledError&) {
        (*trace)("task cancel " + std::to_string(id));
    }
}

Coro<> main_task(Trace* trace) {
    Lock lock;

    // Basic acquire/release
    (*trace)(str(lock.locked()));
    co_await lock.acquire();
    (*trace)(str(lock.locked()));
    co_await sleep(0);
    lock.release();
    (*trace)(str(lock.locked()));
    co_await sleep(0);

    // Use with "async with"
    {
        auto guard = co_await lock;
        (*trace)("have lock");
    }

    // 3 tasks wanting the lock
    (*trace)("----");
    create_task(task_loop(1, &lock, trace));
    create_task(task_loop(2, &lock, trace));
    Task<> t3 = create_task(task_loop(3, &lock, trace));
    co_await lock.acquire();
    co_await sleep(0);
    lock.release();
    co_await t3;

    // 2 sleeping tasks both wanting the lock
    (*trace)("----");
    create_task(task_sleep(&lock, trace));
    co_await sleep(0.1);
    co_await task_sleep(&lock, trace);

    // 3 tasks, the first cancelling the second, the third should still run
    (*trace)("----");
    Task<> ts;
    create_task(task_cancel(0, &lock, &ts, trace));
    ts = create_task(task_cancel(1, &lock, nullptr, trace));
    create_task(task_cancel(2, &lock, nullptr, trace));
    co_await sleep(0.3);
    (*trace)(str(lock.locked()));

    // 3 tasks, the second and third being cancelled while waiting on the lock
    (*trace)("----");
    Task<> t0 = create_task(task_cancel(0, &lock, nullptr, trace));
    Task<> t1 = create_task(task_cancel(1, &lock, nullptr, trace));
    Task<> t2 = create_task(task_cancel(2, &lock, nullptr, trace));
    co_await sleep(0.05);
    t1.cancel();
    co_await sleep(0.1);
    t2.cancel();
    co_await sleep(0.1);
    (*trace)(str(lock.locked()));
}

}  // namespace

TEST_F(AsyncioLock, TheLockIsHandedOffInFifoOrderAndCancelledWaitersPassItOn) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "False",
                               "True",
                               "False",
                               "have lock",
                               "----",
                               "task start 1",
                               "task start 2",
                               "task start 3",
                               "task have 1 0",
                               "task have 2 0",
                               "task have 3 0",
                               "task have 1 1",
                               "task have 2 1",
                               "task have 3 1",
                               "task have 1 2",
                               "task end 1",
                               "task have 2 2",
                               "task end 2",
                               "task have 3 2",
                               "task end 3",
                               "----",
                               "task have True",
                               "task release False",
                               "task have True",
                               "task release False",
                               "task have again",
                               "task have again",
                               "----",
                               "task got 0",
                               "task release 0",
                               "task cancel 1",
                               "task got 2",
                               "task release 2",
                               "False",
                               "----",
                               "task got 0",
                               "task cancel 1",
                               "task release 0",
                               "task got 2",
                               "task cancel 2",
                               "False",
                           }));
}

}  // namespace asyncio_lock_test
