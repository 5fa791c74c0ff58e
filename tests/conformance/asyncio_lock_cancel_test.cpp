// Port of micropython tests/extmod/asyncio_lock_cancel.py
// Checks: cancelling two of four tasks queued on a Lock, then releasing it, hands the lock to
// the remaining waiters one at a time (never two holders at once) and leaves it unlocked.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_lock_cancel_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioLockCancel = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

std::string str(bool b) { return b ? "True" : "False"; }

Coro<> task(int i, Lock* lock, bool* lock_flag, Trace* trace) {
    const std::string name = "task " + std::to_string(i);
    (*trace)(name + " start");
    try {
        co_await lock->acquire();
    } catch (const CancelledError&) {
        (*trace)(name + " cancel");
        co_return;
    }
    (*trace)(name + " lock_flag " + str(*lock_flag));
    *lock_flag = true;
    co_await sleep(0);
    lock->release();
    *lock_flag = false;
    (*trace)(name + " done");
}

Coro<> main_task(Trace* trace) {
    // Create a lock and acquire it so the tasks below must wait
    Lock lock;
    co_await lock.acquire();
    bool lock_flag = true;

    // Create 4 tasks and let them all run
    Task<> t0 = create_task(task(0, &lock, &lock_flag, trace));
    Task<> t1 = create_task(task(1, &lock, &lock_flag, trace));
    Task<> t2 = create_task(task(2, &lock, &lock_flag, trace));
    Task<> t3 = create_task(task(3, &lock, &lock_flag, trace));
    co_await sleep(0);

    // Cancel 2 of the tasks (which are waiting on the lock) and release the lock
    t1.cancel();
    t2.cancel();
    lock.release();
    lock_flag = false;

    // Let the tasks run to completion
    for (int i = 0; i < 4; ++i) co_await sleep(0);

    // The lock should be unlocked
    (*trace)(str(lock.locked()));
}

}  // namespace

TEST_F(AsyncioLockCancel, CancellingQueuedWaitersKeepsTheLockConsistent) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "task 0 start",
                               "task 1 start",
                               "task 2 start",
                               "task 3 start",
                               "task 1 cancel",
                               "task 2 cancel",
                               "task 0 lock_flag False",
                               "task 0 done",
                               "task 3 lock_flag False",
                               "task 3 done",
                               "False",
                           }));
}

}  // namespace asyncio_lock_cancel_test
