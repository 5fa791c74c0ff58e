// to_thread and run_coroutine_threadsafe: blocking calls on the loop's worker pool, coroutines
// submitted from other threads. Real threads throughout; thread and fd counts checked.
#include <asyncio/asyncio.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::testing::open_fd_count;
using asyncio::testing::thread_count;
using ToThread = asyncio::testing::LoopTest;
using RunCoroutineThreadsafe = asyncio::testing::LoopTest;

namespace {

/// A one-shot gate a worker can block on (the test opens it).
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    void wait() {
        std::unique_lock lock(m);
        cv.wait(lock, [this] { return open; });
    }
    void release() {
        {
            std::lock_guard lock(m);
            open = true;
        }
        cv.notify_all();
    }
};

int add(int a, int b) { return a + b; }

}  // namespace

TEST_F(ToThread, GivesTheFunctionsValue) {
    EXPECT_EQ(run(to_thread(add, 40, 2)), 42);
}

TEST_F(ToThread, RunsTheCallOnAnotherThread) {
    auto loop_thread = std::this_thread::get_id();
    auto worker = run(to_thread([] { return std::this_thread::get_id(); }));
    EXPECT_NE(worker, loop_thread);
}

TEST_F(ToThread, RethrowsTheFunctionsExceptionWithItsType) {
    auto main = []() -> Coro<std::string> {
        try {
            co_await to_thread([] { throw std::out_of_range("no such page"); });
        } catch (const std::out_of_range& e) {
            co_return e.what();
        }
        co_return "nothing thrown";
    };
    EXPECT_EQ(run(main()), "no such page");
}

TEST_F(ToThread, CopiesItsArgumentsAsStdThreadDoes) {
    std::string s = "original";
    auto append = [](std::string& target) { target += " + worker"; };
    run(to_thread(append, std::ref(s)));  // std::ref shares
    EXPECT_EQ(s, "original + worker");
    auto take = [](std::unique_ptr<int> p) { return *p; };  // move-only arguments move in
    EXPECT_EQ(run(to_thread(take, std::make_unique<int>(9))), 9);
    std::string copied = "kept";
    auto consume = [](std::string v) { return v.size(); };
    EXPECT_EQ(run(to_thread(consume, copied)), 4u);
    EXPECT_EQ(copied, "kept");
}

TEST_F(ToThread, ManyCallsAtOnceAllComplete) {
    std::atomic<int> calls{0};
    auto main = [](std::atomic<int>* c) -> Coro<> {
        std::vector<Task<>> tasks;
        for (int i = 0; i < 50; ++i) tasks.push_back(create_task(to_thread([c] { ++*c; })));
        for (auto& t : tasks) co_await t;
    };
    run(main(&calls));
    EXPECT_EQ(calls.load(), 50);
}

TEST_F(ToThread, ThePoolIsBoundedAndRunsCallsInParallel) {
    std::atomic<int> running{0};
    std::atomic<int> peak{0};
    auto slow = [&] {
        int now = ++running;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        --running;
    };
    auto main = [](decltype(slow)* f) -> Coro<> {
        std::vector<Task<>> tasks;
        for (int i = 0; i < 24; ++i) tasks.push_back(create_task(to_thread(*f)));
        for (auto& t : tasks) co_await t;
    };
    run(main(&slow));
    unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    EXPECT_LE(peak.load(), static_cast<int>(std::min(32u, cpus + 4)));
    EXPECT_GE(peak.load(), 2);
}

TEST_F(ToThread, ThreadsStartLazilyAndAreJoinedWhenTheLoopCloses) {
    int threads_before = thread_count();
    int fds_before = open_fd_count();
    run(to_thread([] {}));
    EXPECT_EQ(thread_count(), threads_before + 1);  // one call, one worker
    get_event_loop().close();
    EXPECT_EQ(thread_count(), threads_before);
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST_F(ToThread, CancellingTheAwaitingTaskRaisesAtOnceAndTheCallRunsOn) {
    auto gate = std::make_shared<Gate>();
    auto finished = std::make_shared<std::atomic<bool>>(false);
    auto main = [](std::shared_ptr<Gate> g, std::shared_ptr<std::atomic<bool>> done) -> Coro<std::string> {
        auto blocked = create_task(to_thread([g, done] {
            g->wait();
            *done = true;
            return 1;
        }));
        co_await sleep_ms(5);  // the call is running and blocked
        blocked.cancel();
        std::string outcome;
        try {
            co_await blocked;
            outcome = "value";
        } catch (const CancelledError&) {
            outcome = "cancelled";
        }
        // The blocked worker does not hold up the others.
        int v = co_await to_thread(add, 1, 2);
        outcome += " then " + std::to_string(v);
        outcome += done->load() ? " (call finished)" : " (call still running)";
        g->release();
        co_return outcome;
    };
    EXPECT_EQ(run(main(gate, finished)), "cancelled then 3 (call still running)");
    get_event_loop().close();  // joins the worker, which finishes its call; its result is dropped
    EXPECT_TRUE(finished->load());
}

TEST_F(ToThread, CloseWaitsForACallInProgressAndDestroysTheWaitingTask) {
    auto started = std::make_shared<std::atomic<bool>>(false);
    auto finished = std::make_shared<std::atomic<bool>>(false);
    auto waiter = [](std::shared_ptr<std::atomic<bool>> s, std::shared_ptr<std::atomic<bool>> f) -> Coro<> {
        auto call = [s, f] {  // named: g++ 12 destroys a capturing lambda in co_await twice
            *s = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            *f = true;
        };
        co_await to_thread(call);
        ADD_FAILURE() << "the waiting task must not resume after close()";
    };
    Task<> t = create_task(waiter(started, finished));
    run([](std::shared_ptr<std::atomic<bool>> s) -> Coro<> {
        while (!s->load()) co_await sleep_ms(1);
    }(started));
    get_event_loop().close();
    EXPECT_TRUE(finished->load());
    EXPECT_TRUE(t.done());
}

TEST_F(ToThread, OnAClosedLoopRaisesRuntimeError) {
    get_event_loop().close();
    EXPECT_THROW(run(to_thread([] {})), RuntimeError);
}

TEST_F(ToThread, ANewLoopStartsThePoolAgain) {
    EXPECT_EQ(run(to_thread(add, 1, 1)), 2);
    new_event_loop();
    EXPECT_EQ(run(to_thread(add, 2, 2)), 4);
}

namespace {

/// CPU time (user + system) of the whole process so far, in milliseconds.
double process_cpu_ms() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto ms = [](const timeval& t) { return double(t.tv_sec) * 1e3 + double(t.tv_usec) / 1e3; };
    return ms(u.ru_utime) + ms(u.ru_stime);
}

}  // namespace

TEST_F(ToThread, BackToBackCallsEachGiveTheirOwnValue) {
    // Calls faster and slower than the pool's and the loop's spin-waits (thread/spin.hpp): the
    // results arrive both while the loop spins and while it sleeps in the poller.
    auto main = []() -> Coro<long> {
        long sum = 0;
        for (int i = 0; i < 3000; ++i) {
            auto call = [i] {
                if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
                return i;
            };
            sum += co_await to_thread(call);
        }
        co_return sum;
    };
    EXPECT_EQ(run(main()), 3000L * 2999 / 2);
}

TEST_F(ToThread, CallsOneAtATimeNeedOneWorker) {
    // The worker counts itself idle before its result is out, so the next call, submitted as
    // soon as the result arrives, goes to it rather than to a new thread.
    int threads_before = thread_count();
    auto main = []() -> Coro<> {
        for (int i = 0; i < 2000; ++i) co_await to_thread([] {});
    };
    run(main());
    EXPECT_EQ(thread_count(), threads_before + 1);
}

TEST_F(ToThread, ALoopAwaitingABlockingCallAndAnIdlePoolUseNoCpu) {
    // The loop and the workers spin only for microseconds before sleeping in the kernel: a
    // 300 ms blocking call, then 300 ms with an idle pool, cost about nothing in CPU time.
    run(to_thread([] {}));  // the worker exists before the measurement
    const double before = process_cpu_ms();
    auto main = []() -> Coro<> {
        co_await to_thread([] { std::this_thread::sleep_for(std::chrono::milliseconds(300)); });
        co_await sleep_ms(300);
    };
    run(main());
    const double used = process_cpu_ms() - before;
    EXPECT_LT(used, 60.0) << "ms of CPU over 600 ms of waiting: a busy loop";
}

// ---- run_coroutine_threadsafe ----

namespace {

Coro<int> add_later(int a, int b) {
    co_await sleep_ms(2);
    co_return a + b;
}

Coro<int> fail_later() {
    co_await sleep_ms(1);
    throw std::runtime_error("Fail!");
}

/// Runs `body` on a new thread while this thread's loop runs; returns when it finished.
template <class F>
void with_thread(F body) {
    std::atomic<bool> done{false};
    std::thread other([&] {
        body();
        done = true;
    });
    run([](std::atomic<bool>* d) -> Coro<> {
        while (!d->load()) co_await sleep_ms(1);
    }(&done));
    other.join();
}

}  // namespace

TEST_F(RunCoroutineThreadsafe, GivesTheCoroutinesValueToAnotherThread) {
    Loop& loop = get_event_loop();
    int got = 0;
    with_thread([&] { got = run_coroutine_threadsafe(add_later(1, 2), loop).get(); });
    EXPECT_EQ(got, 3);
}

TEST_F(RunCoroutineThreadsafe, GivesTheCoroutinesException) {
    Loop& loop = get_event_loop();
    std::string error;
    with_thread([&] {
        try {
            run_coroutine_threadsafe(fail_later(), loop).get();
        } catch (const std::runtime_error& e) {
            error = e.what();
        }
    });
    EXPECT_EQ(error, "Fail!");
}

TEST_F(RunCoroutineThreadsafe, TheFutureHoldsCancelledErrorIfTheLoopClosesFirst) {
    Loop& loop = get_event_loop();
    std::future<int> f;
    std::thread other([&] {
        f = run_coroutine_threadsafe([]() -> Coro<int> {
            co_await sleep(3600.0);
            co_return 1;
        }(), loop);
    });
    other.join();
    run([]() -> Coro<> { co_await sleep_ms(2); }());  // the task starts and sleeps
    loop.close();
    EXPECT_THROW(f.get(), CancelledError);
}

TEST_F(RunCoroutineThreadsafe, ThrowsOnAClosedLoop) {
    Loop& loop = get_event_loop();
    loop.close();
    bool threw = false;
    std::thread other([&] {
        try {
            (void)run_coroutine_threadsafe(add_later(1, 1), loop);
        } catch (const RuntimeError&) {
            threw = true;
        }
    });
    other.join();
    EXPECT_TRUE(threw);
}

TEST_F(RunCoroutineThreadsafe, AnEmptyCoroIsRejected) {
    Loop& loop = get_event_loop();
    EXPECT_THROW((void)run_coroutine_threadsafe(Coro<int>{}, loop), std::invalid_argument);
}

TEST_F(RunCoroutineThreadsafe, HandsWorkBetweenTwoLoopsOnTwoThreads) {
    // Loop B runs on its own thread; loop A (this thread) sends it a coroutine and waits for
    // the answer without blocking its own loop (through to_thread on the future).
    std::promise<Loop*> b_ready;
    std::atomic<bool> b_stop{false};
    std::thread b([&] {
        Loop& loop_b = get_event_loop();
        b_ready.set_value(&loop_b);
        run([](std::atomic<bool>* stop) -> Coro<> {
            while (!stop->load()) co_await sleep_ms(1);
        }(&b_stop));
        loop_b.close();
    });
    Loop* loop_b = b_ready.get_future().get();
    auto on_b = []() -> Coro<std::thread::id> { co_return std::this_thread::get_id(); };
    std::future<std::thread::id> answer = run_coroutine_threadsafe(on_b(), *loop_b);
    auto id = run(to_thread([&answer] { return answer.get(); }));
    b_stop = true;
    EXPECT_EQ(id, b.get_id());
    b.join();
}
