// Loop::call_soon, call_later, call_at, call_soon_threadsafe and TimerHandle; the callbacks'
// order among task steps, their errors, cancellation, and calls from other threads.
#include <asyncio/asyncio.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using Callbacks = asyncio::testing::LoopTest;

namespace {

Coro<> stepper(Lines* out, std::string name, int n) {
    for (int i = 0; i < n; ++i) {
        out->push_back(name + " " + std::to_string(i));
        co_await sleep(0);
    }
}

/// Counts live instances: proves a callable (and what it captured) was destroyed.
struct Alive {
    explicit Alive(int* n) : n_(n) { ++*n_; }
    Alive(const Alive&) = delete;
    ~Alive() { --*n_; }
    int* n_;
};

/// Runs the loop until every callback and task queued now, and those they queue, had a turn
/// (a few rounds), like CPython's test_utils.run_briefly.
void run_briefly() {
    run([]() -> Coro<> {
        for (int i = 0; i < 3; ++i) co_await sleep(0);
    }());
}

}  // namespace

TEST_F(Callbacks, CallSoonRunsInFifoOrderWithTaskSteps) {
    Loop& loop = get_event_loop();
    Lines out;
    create_task(stepper(&out, "a", 2));
    loop.call_soon([&] { out.push_back("cb1"); });
    create_task(stepper(&out, "b", 2));
    loop.call_soon([&] { out.push_back("cb2"); });
    run_briefly();
    EXPECT_EQ(out, (Lines{"a 0", "cb1", "b 0", "cb2", "a 1", "b 1"}));
}

TEST_F(Callbacks, ACallbackScheduledByACallbackRunsAfterEverythingAlreadyQueued) {
    Loop& loop = get_event_loop();
    Lines out;
    loop.call_soon([&] {
        out.push_back("first");
        loop.call_soon([&] { out.push_back("nested"); });
    });
    loop.call_soon([&] { out.push_back("second"); });
    run_briefly();
    EXPECT_EQ(out, (Lines{"first", "second", "nested"}));
}

TEST_F(Callbacks, CallbacksRunOutsideAnyTask) {
    Loop& loop = get_event_loop();
    bool threw = false;
    loop.call_soon([&] {
        try {
            (void)current_task();
        } catch (const RuntimeError&) {
            threw = true;
        }
    });
    run_briefly();
    EXPECT_TRUE(threw);
}

TEST_F(Callbacks, CallLaterRunsInDeadlineOrderAndNotBefore) {
    Loop& loop = get_event_loop();
    Lines out;
    auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration first_at{};
    loop.call_later(0.04, [&] {
        out.push_back("40ms");
        loop.stop();
    });
    loop.call_later(std::chrono::milliseconds(20), [&] {
        first_at = std::chrono::steady_clock::now() - start;
        out.push_back("20ms");
    });
    loop.run_forever();
    EXPECT_EQ(out, (Lines{"20ms", "40ms"}));
    EXPECT_GE(first_at, std::chrono::milliseconds(20));
}

TEST_F(Callbacks, EqualDeadlinesRunInTheOrderTheyWereSet) {
    Loop& loop = get_event_loop();
    Lines out;
    auto when = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
    for (const char* name : {"x", "y", "z"}) loop.call_at(when, [&out, name] { out.push_back(name); });
    loop.call_at(when, [&] { loop.stop(); });
    loop.run_forever();
    EXPECT_EQ(out, (Lines{"x", "y", "z"}));
}

TEST_F(Callbacks, ATimerAndASleepingTaskShareOneDeadlineOrder) {
    Loop& loop = get_event_loop();
    Lines out;
    auto sleeper = [](Lines* o) -> Coro<> {
        co_await sleep_ms(10);
        o->push_back("task after 10ms");
    };
    create_task(sleeper(&out));
    loop.call_later(0.005, [&] { out.push_back("callback after 5ms"); });
    loop.call_later(0.015, [&] { out.push_back("callback after 15ms"); });
    run([]() -> Coro<> { co_await sleep_ms(30); }());
    EXPECT_EQ(out, (Lines{"callback after 5ms", "task after 10ms", "callback after 15ms"}));
}

TEST_F(Callbacks, CancelledCallbackDoesNotRunAndReleasesItsCaptureAtOnce) {
    Loop& loop = get_event_loop();
    int alive = 0;
    bool ran = false;
    TimerHandle h = loop.call_soon([&ran, a = std::make_shared<Alive>(&alive)] { ran = true; });
    EXPECT_EQ(alive, 1);
    EXPECT_FALSE(h.cancelled());
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    EXPECT_EQ(alive, 0);
    run_briefly();
    EXPECT_FALSE(ran);
}

TEST_F(Callbacks, CancelledTimerLeavesTheTimerHeapAtOnce) {
    Loop& loop = get_event_loop();
    std::vector<TimerHandle> handles;
    for (int i = 0; i < 1000; ++i) handles.push_back(loop.call_later(3600.0, [] {}));
    EXPECT_EQ(detail::timer_count(loop), 1000u);
    for (TimerHandle& h : handles) h.cancel();
    EXPECT_EQ(detail::timer_count(loop), 0u);
}

TEST_F(Callbacks, CancelAfterTheCallbackRanOrTwiceIsHarmless) {
    Loop& loop = get_event_loop();
    int runs = 0;
    TimerHandle h = loop.call_soon([&] { ++runs; });
    TimerHandle copy = h;
    run_briefly();
    EXPECT_EQ(runs, 1);
    copy.cancel();
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    TimerHandle empty;
    empty.cancel();
    EXPECT_FALSE(empty.cancelled());
}

TEST_F(Callbacks, ACallbackMayCancelAnother) {
    Loop& loop = get_event_loop();
    Lines out;
    TimerHandle second;
    loop.call_soon([&] {
        out.push_back("first");
        second.cancel();
    });
    second = loop.call_soon([&] { out.push_back("second"); });
    run_briefly();
    EXPECT_EQ(out, (Lines{"first"}));
}

TEST_F(Callbacks, ExceptionGoesToTheHandlerAndTheLoopRunsOn) {
    Loop& loop = get_event_loop();
    std::vector<std::string> messages;
    loop.set_exception_handler([&](Loop&, const ExceptionContext& c) {
        try {
            std::rethrow_exception(c.exception);
        } catch (const std::exception& e) {
            messages.push_back(c.message + ": " + e.what());
        }
        EXPECT_FALSE(c.future);
    });
    bool after = false;
    loop.call_soon([] { throw std::runtime_error("boom"); });
    loop.call_soon([&] { after = true; });
    run_briefly();
    EXPECT_EQ(messages, (Lines{"Exception in callback: boom"}));
    EXPECT_TRUE(after);
}

TEST_F(Callbacks, MoveOnlyCallablesAreAccepted) {
    Loop& loop = get_event_loop();
    int got = 0;
    auto p = std::make_unique<int>(7);
    loop.call_soon([&got, p = std::move(p)] { got = *p; });
    run_briefly();
    EXPECT_EQ(got, 7);
}

TEST_F(Callbacks, StopFromACallbackEndsRunForever) {
    Loop& loop = get_event_loop();
    loop.call_soon([&] { loop.stop(); });
    loop.run_forever();
    SUCCEED();
}

TEST_F(Callbacks, CallSoonOnAClosedLoopThrowsRuntimeError) {
    Loop& loop = get_event_loop();
    loop.close();
    EXPECT_THROW(loop.call_soon([] {}), RuntimeError);
    EXPECT_THROW(loop.call_later(1.0, [] {}), RuntimeError);
    EXPECT_THROW(loop.call_at(0.0, [] {}), RuntimeError);
    EXPECT_THROW(loop.call_soon_threadsafe([] {}), RuntimeError);
}

TEST_F(Callbacks, NanDelayIsRejected) {
    Loop& loop = get_event_loop();
    EXPECT_THROW(loop.call_later(std::nan(""), [] {}), std::invalid_argument);
}

TEST_F(Callbacks, CallSoonFromAnotherThreadIsRefused) {
    Loop& loop = get_event_loop();
    std::string error;
    std::thread other([&] {
        try {
            loop.call_soon([] {});
        } catch (const RuntimeError& e) {
            error = e.what();
        }
    });
    other.join();
    EXPECT_EQ(error, "Non-thread-safe operation invoked on an event loop other than the current one");
}

TEST_F(Callbacks, CloseDropsQueuedCallbacksAndWhatTheyCaptured) {
    Loop& loop = get_event_loop();
    int alive = 0;
    bool ran = false;
    TimerHandle soon = loop.call_soon([&ran, a = std::make_shared<Alive>(&alive)] { ran = true; });
    loop.call_later(3600.0, [a = std::make_shared<Alive>(&alive)] {});
    EXPECT_EQ(alive, 2);
    loop.close();
    EXPECT_EQ(alive, 0);
    EXPECT_FALSE(ran);
    EXPECT_EQ(detail::timer_count(loop), 0u);
}

// ---- call_soon_threadsafe ----

TEST_F(Callbacks, CallSoonThreadsafeWakesASleepingLoop) {
    Loop& loop = get_event_loop();
    std::atomic<bool> started{false};
    loop.call_soon([&] { started = true; });
    std::thread other([&] {
        while (!started.load()) std::this_thread::yield();
        loop.call_soon_threadsafe([&] { loop.stop(); });
    });
    loop.run_forever();  // nothing else to do: it sleeps in the poller until the call arrives
    other.join();
}

TEST_F(Callbacks, CallSoonThreadsafeFromFourThreadsRunsEveryCallInEachThreadsOrder) {
    Loop& loop = get_event_loop();
    constexpr int kThreads = 4;
    constexpr int kCalls = 2000;
    std::vector<std::vector<int>> seen(kThreads);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            ++ready;
            while (ready.load() < kThreads) std::this_thread::yield();
            for (int i = 0; i < kCalls; ++i) loop.call_soon_threadsafe([&seen, t, i] { seen[t].push_back(i); });
        });
    }
    int total = 0;
    auto main = [](std::vector<std::vector<int>>* s, int* n) -> Coro<> {
        while (*n < kThreads * kCalls) {
            co_await sleep_ms(1);
            *n = 0;
            for (auto& v : *s) *n += static_cast<int>(v.size());
        }
    };
    run(main(&seen, &total));
    for (auto& t : threads) t.join();
    for (int t = 0; t < kThreads; ++t) {
        ASSERT_EQ(seen[t].size(), static_cast<std::size_t>(kCalls));
        for (int i = 0; i < kCalls; ++i) ASSERT_EQ(seen[t][i], i);
    }
}

TEST_F(Callbacks, CallSoonThreadsafeOnTheLoopsOwnThreadIsCallSoon) {
    Loop& loop = get_event_loop();
    Lines out;
    loop.call_soon([&] { out.push_back("a"); });
    loop.call_soon_threadsafe([&] { out.push_back("b"); });
    loop.call_soon([&] { out.push_back("c"); });
    run_briefly();
    EXPECT_EQ(out, (Lines{"a", "b", "c"}));
}

TEST_F(Callbacks, AThreadsafeCallbackCancelledFromItsThreadDoesNotRun) {
    Loop& loop = get_event_loop();
    std::atomic<bool> ran{false};
    std::thread other([&] {
        TimerHandle h = loop.call_soon_threadsafe([&] { ran = true; });
        h.cancel();
        EXPECT_TRUE(h.cancelled());
    });
    other.join();
    run_briefly();
    EXPECT_FALSE(ran.load());
}

TEST_F(Callbacks, CallSoonThreadsafeOnAClosedLoopThrowsOnTheCallingThread) {
    Loop& loop = get_event_loop();
    loop.close();
    bool threw = false;
    std::thread other([&] {
        try {
            loop.call_soon_threadsafe([] {});
        } catch (const RuntimeError&) {
            threw = true;
        }
    });
    other.join();
    EXPECT_TRUE(threw);
}

TEST_F(Callbacks, PendingThreadsafeCallbacksAreReleasedWhenTheLoopCloses) {
    Loop& loop = get_event_loop();
    int alive = 0;
    std::thread other([&] { loop.call_soon_threadsafe([a = std::make_shared<Alive>(&alive)] {}); });
    other.join();
    EXPECT_EQ(alive, 1);
    loop.close();
    EXPECT_EQ(alive, 0);
}
