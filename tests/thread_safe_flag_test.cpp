// ThreadSafeFlag: set from the loop, from other threads and from signal handlers; auto-reset;
// one waiter at a time; cancellation. Real threads and real signals.
#include <asyncio/asyncio.hpp>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace thread_safe_flag_test {

using namespace asyncio;
using Lines = std::vector<std::string>;
using ThreadSafeFlagTest = asyncio::testing::LoopTest;

namespace {

constexpr std::int64_t kMs = 1'000'000;

Coro<> wait_and_log(ThreadSafeFlag* f, Lines* out, std::string name) {
    co_await f->wait();
    out->push_back(name + " woke");
}

Coro<> log_line(Lines* out, std::string s) {
    out->push_back(std::move(s));
    co_return;
}

ThreadSafeFlag* g_signal_flag = nullptr;
extern "C" void set_flag_from_signal(int) { g_signal_flag->set(); }

}  // namespace

TEST_F(ThreadSafeFlagTest, WaitOnASetFlagReturnsAtOnceAndClearsIt) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        ThreadSafeFlag f;
        f.set();
        create_task(log_line(o, "other"));
        co_await f.wait();  // no suspension: "other" has not run
        o->push_back("waited");
        // Auto-reset: a second wait blocks until the next set().
        EXPECT_THROW(co_await wait_for_ms(f.wait(), 5), TimeoutError);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"waited", "other"}));
}

TEST_F(ThreadSafeFlagTest, SetFromTheLoopWakesTheWaiter) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        ThreadSafeFlag f;
        Task<> t = create_task(wait_and_log(&f, o, "waiter"));
        co_await sleep(0);
        o->push_back("set");
        f.set();
        co_await t;
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"set", "waiter woke"}));
}

TEST_F(ThreadSafeFlagTest, ClearDropsAnEarlierSet) {
    auto main = []() -> Coro<> {
        ThreadSafeFlag f;
        f.set();
        f.clear();
        EXPECT_THROW(co_await wait_for_ms(f.wait(), 5), TimeoutError);
        f.set();
        f.clear();
        f.set();
        co_await wait_for_ms(f.wait(), 1000);
    };
    run(main());
}

TEST_F(ThreadSafeFlagTest, SeveralSetsBeforeTheWaiterRunsGiveOneWakeUp) {
    auto main = []() -> Coro<> {
        ThreadSafeFlag f;
        int wakes = 0;
        auto waiter = [](ThreadSafeFlag* fl, int* n) -> Coro<> {
            for (;;) {
                co_await fl->wait();
                ++*n;
            }
        };
        Task<> t = create_task(waiter(&f, &wakes));
        co_await sleep(0);
        f.set();
        f.set();
        f.set();
        // The wake-up may come through the poller, so wait for it rather than for a fixed time
        // (on a loaded machine a 5 ms timer can expire in the same round as the readiness).
        for (int round = 0; wakes == 0 && round < 1000000; ++round) co_await sleep(0);
        co_await sleep_ms(5);  // room for a second wake-up, which must not come
        EXPECT_EQ(wakes, 1);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
    };
    run(main());
}

TEST_F(ThreadSafeFlagTest, ASecondConcurrentWaiterRaises) {
    auto main = []() -> Coro<> {
        ThreadSafeFlag f;
        Lines out;
        Task<> first = create_task(wait_and_log(&f, &out, "first"));
        co_await sleep(0);
        try {
            co_await f.wait();
            ADD_FAILURE() << "expected RuntimeError";
        } catch (const RuntimeError& e) {
            EXPECT_STREQ(e.what(), "ThreadSafeFlag can only be waited on by one task at a time");
        }
        f.set();
        co_await first;  // the first waiter was not disturbed
        EXPECT_EQ(out, (Lines{"first woke"}));
    };
    run(main());
}

TEST_F(ThreadSafeFlagTest, CancellingTheWaiterUnregistersIt) {
    auto main = []() -> Coro<> {
        ThreadSafeFlag f;
        Lines out;
        Task<> t = create_task(wait_and_log(&f, &out, "a"));
        co_await sleep(0);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        f.set();  // nobody waits: the flag just stays set
        Task<> u = create_task(wait_and_log(&f, &out, "b"));
        co_await u;
        EXPECT_EQ(out, (Lines{"b woke"}));
    };
    run(main());
}

TEST_F(ThreadSafeFlagTest, SetFromAnotherThreadWakesAnIdleLoopPromptly) {
    auto main = []() -> Coro<std::int64_t> {
        ThreadSafeFlag f;
        std::atomic<std::int64_t> set_at{0};
        std::thread setter([&f, &set_at] {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            set_at.store(detail::monotonic_ns());
            f.set();
        });
        co_await f.wait();  // the loop has nothing else to do: it sleeps in epoll
        std::int64_t latency = detail::monotonic_ns() - set_at.load();
        setter.join();
        co_return latency;
    };
    std::int64_t latency = run(main());
    EXPECT_GE(latency, 0);
    EXPECT_LT(latency, 100 * kMs);  // a timer-driven poll would not be needed to notice it
}

TEST_F(ThreadSafeFlagTest, ManyHandOffsFromAWorkerThreadAreAllSeen) {
    // A worker produces items one at a time; the flag tells the loop each time.
    auto main = []() -> Coro<int> {
        ThreadSafeFlag ready;
        std::atomic<int> produced{0};
        std::atomic<int> consumed{0};
        constexpr int kItems = 2000;
        std::thread worker([&] {
            for (int i = 0; i < kItems; ++i) {
                while (consumed.load() != i) std::this_thread::yield();  // one in flight
                produced.store(i + 1);
                ready.set();
            }
        });
        int seen = 0;
        while (seen < kItems) {
            co_await ready.wait();
            seen = produced.load();
            consumed.store(seen);
        }
        worker.join();
        co_return seen;
    };
    EXPECT_EQ(run(main()), 2000);
}

TEST_F(ThreadSafeFlagTest, SetFromASignalHandlerWakesTheWaiter) {
    auto main = []() -> Coro<> {
        ThreadSafeFlag f;
        g_signal_flag = &f;
        struct sigaction sa {};
        struct sigaction old {};
        sa.sa_handler = set_flag_from_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, &old);
        // Raised on this thread, while the loop is running a task.
        raise(SIGUSR1);
        co_await wait_for_ms(f.wait(), 1000);
        // Sent from another thread while the loop sleeps in epoll (delivered to this thread).
        pthread_t loop_thread = pthread_self();
        std::thread sender([loop_thread] {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            pthread_kill(loop_thread, SIGUSR1);
        });
        co_await wait_for_ms(f.wait(), 2000);
        sender.join();
        sigaction(SIGUSR1, &old, nullptr);
        g_signal_flag = nullptr;
    };
    run(main());
}

// Issue 10 point 2: the waiter of a destroyed flag used to resume into finish_wait and read
// the dead object (SIGSEGV). The flag is on the heap so that ASan sees any such access.
TEST_F(ThreadSafeFlagTest, Issue10_DestroyingAFlagWhileATaskWaitsWakesItCancelledWithoutTouchingIt) {
    auto main = []() -> Coro<> {
        Lines out;
        auto f = std::make_unique<ThreadSafeFlag>();
        Task<> t = create_task(wait_and_log(f.get(), &out, "a"));
        co_await sleep(0);
        f.reset();
        EXPECT_THROW(co_await t, CancelledError);
        EXPECT_TRUE(out.empty());
        // The loop's wake-up list forgot the flag: another flag still works.
        ThreadSafeFlag g;
        Task<> u = create_task(wait_and_log(&g, &out, "b"));
        co_await sleep(0);
        std::thread([&g] { g.set(); }).join();
        co_await u;
        EXPECT_EQ(out, (Lines{"b woke"}));
    };
    run(main());
}

TEST_F(ThreadSafeFlagTest, Issue10_AWaiterWokenBySetBeforeItsFlagIsDestroyedReturnsNormally) {
    auto main = []() -> Coro<> {
        Lines out;
        auto f = std::make_unique<ThreadSafeFlag>();
        Task<> t = create_task(wait_and_log(f.get(), &out, "a"));
        co_await sleep(0);
        // Order the next round: this task's timer is already due when the loop looks at the
        // set() below, so it runs before the woken waiter does.
        auto due = sleep_ms(1);
        std::thread([&f] { f->set(); }).join();
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        co_await std::move(due);
        EXPECT_TRUE(out.empty());  // woken, not resumed yet
        f.reset();
        co_await t;  // it resumes without touching the dead flag and returns normally
        EXPECT_EQ(out, (Lines{"a woke"}));
    };
    run(main());
}

}  // namespace thread_safe_flag_test
