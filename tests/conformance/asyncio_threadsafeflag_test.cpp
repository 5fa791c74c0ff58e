// Port of micropython tests/extmod/asyncio_threadsafeflag.py
// Checks: a ThreadSafeFlag set from within the loop wakes its waiter (at the next look at the
// flags, after the setter's own yield); set from another thread (upstream: from a
// micropython.schedule callback; here a real std::thread) it wakes the waiter too; a flag
// already set lets wait() return without suspending; a set() that was clear()ed before the
// wait does not count.
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_threadsafeflag_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioThreadSafeFlag = asyncio::testing::LoopTest;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Coro<> task(int id, ThreadSafeFlag* flag, Trace* trace) {
    (*trace)("task " + std::to_string(id));
    co_await flag->wait();
    (*trace)("task " + std::to_string(id) + " done");
}

// Upstream's micropython.schedule(set_from_schedule, flag): set() from outside the loop.
std::thread set_from_other_thread(ThreadSafeFlag* flag) {
    return std::thread([flag] { flag->set(); });
}

Coro<> main_task(Trace* trace, Clock::duration* thread_wake) {
    ThreadSafeFlag flag;

    // Set the flag from within the loop.
    Task<> t = create_task(task(1, &flag, trace));
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("set event");
    flag.set();
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("wait task");
    co_await t;

    // Set the flag from another thread.
    (*trace)("----");
    t = create_task(task(2, &flag, trace));
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("set event");
    auto t0 = Clock::now();
    std::thread setter = set_from_other_thread(&flag);
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("wait task");
    co_await t;
    *thread_wake = Clock::now() - t0;
    setter.join();

    // Flag already set.
    (*trace)("----");
    (*trace)("set event");
    flag.set();
    t = create_task(task(3, &flag, trace));
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("wait task");
    co_await t;

    // Flag set, cleared, and set again.
    (*trace)("----");
    (*trace)("set event");
    flag.set();
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("clear event");
    flag.clear();
    (*trace)("yield");
    co_await sleep(0);
    t = create_task(task(4, &flag, trace));
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("set event");
    flag.set();
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("wait task");
    co_await t;
}

}  // namespace

TEST_F(AsyncioThreadSafeFlag, SetFromTheLoopOrAnotherThreadWakesTheWaiterOnce) {
    Trace trace;
    Clock::duration thread_wake{};
    run(main_task(&trace, &thread_wake));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "yield",
                               "task 1",
                               "set event",
                               "yield",
                               "wait task",
                               "task 1 done",
                               "----",
                               "yield",
                               "task 2",
                               "set event",
                               "yield",
                               "wait task",
                               "task 2 done",
                               "----",
                               "set event",
                               "yield",
                               "task 3",
                               "task 3 done",
                               "wait task",
                               "----",
                               "set event",
                               "yield",
                               "clear event",
                               "yield",
                               "yield",
                               "task 4",
                               "set event",
                               "yield",
                               "wait task",
                               "task 4 done",
                           }));
    // The loop sleeps in the kernel while the waiter waits; the other thread's set() wakes it.
    EXPECT_LT(thread_wake, milliseconds(150));
}

}  // namespace asyncio_threadsafeflag_test
