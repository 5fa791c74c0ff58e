// Loop, get_event_loop, new_event_loop, run: running, stopping, closing, exception handler.
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace loop_test {

using namespace asyncio;
using Lines = std::vector<std::string>;
using LoopTest = asyncio::testing::LoopTest;
using ExceptionHandlerTest = asyncio::testing::LoopTest;

namespace {

Coro<> ticker(Lines* out, std::string name, int n) {
    for (int i = 0; i < n; ++i) {
        out->push_back(name + " " + std::to_string(i));
        co_await sleep(0);
    }
}

Coro<> fail_now(std::string what) {
    throw std::runtime_error(what);
    co_return;
}

/// Counts live instances: proves a coroutine frame (and its locals) was destroyed.
struct Alive {
    explicit Alive(int* n) : n_(n) { ++*n_; }
    Alive(const Alive&) = delete;
    ~Alive() { --*n_; }
    int* n_;
};

Coro<> hold_forever(int* alive) {
    Alive a(alive);
    co_await sleep_ms(1'000'000);
}

}  // namespace

TEST_F(LoopTest, GetEventLoopReturnsTheSameLoopEachTime) {
    EXPECT_EQ(&get_event_loop(), &get_event_loop());
    EXPECT_EQ(&new_event_loop(), &get_event_loop());
}

TEST_F(LoopTest, RunReturnsTheValueOrRethrows) {
    EXPECT_EQ(run([]() -> Coro<int> { co_return 3; }()), 3);
    EXPECT_THROW(run(fail_now("main failed")), std::runtime_error);
}

TEST_F(LoopTest, RunLeavesUnfinishedTasksQueuedForTheNextRun) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        create_task(ticker(o, "t", 4));
        co_await sleep(0);
        o->push_back("main done");
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"t 0", "main done"}));
    EXPECT_EQ(get_event_loop().task_count(), 1u);
    auto second = []() -> Coro<> {
        for (int i = 0; i < 5; ++i) co_await sleep(0);
    };
    run(second());
    EXPECT_EQ(out, (Lines{"t 0", "main done", "t 1", "t 2", "t 3"}));
}

TEST_F(LoopTest, RunUntilCompleteTakesACoroOrATask) {
    Loop& loop = get_event_loop();
    EXPECT_EQ(loop.run_until_complete([]() -> Coro<int> { co_return 1; }()), 1);
    Task<int> t = loop.create_task([]() -> Coro<int> { co_return 2; }());
    EXPECT_EQ(loop.run_until_complete(t), 2);
    // A finished task gives its value again (MicroPython returns None here: quirk Q6).
    EXPECT_EQ(loop.run_until_complete(t), 2);
}

Coro<> stop_after(Lines* out, int yields) {
    for (int i = 0; i < yields; ++i) co_await sleep(0);
    out->push_back("stop");
    get_event_loop().stop();
}

TEST_F(LoopTest, StopMakesRunForeverReturnAfterTasksAlreadyRunnable) {
    Lines out;
    auto stopper = [](Lines* o) -> Coro<> {
        o->push_back("stopper");
        get_event_loop().stop();
        get_event_loop().stop();  // a second stop does nothing more
        o->push_back("stopper after stop");
        co_await sleep(0);
        o->push_back("stopper resumed");
    };
    Loop& loop = get_event_loop();
    loop.create_task(ticker(&out, "a", 3));
    loop.create_task(stopper(&out));
    loop.create_task(ticker(&out, "b", 3));
    loop.run_forever();
    // The marker queued by stop() comes after b and a, which were runnable before it.
    EXPECT_EQ(out, (Lines{"a 0", "stopper", "stopper after stop", "b 0", "a 1"}));
    // Calling run_forever again continues the remaining tasks.
    out.clear();
    loop.create_task(stop_after(&out, 3));
    loop.run_forever();
    EXPECT_EQ(out, (Lines{"stopper resumed", "b 1", "a 2", "b 2", "stop"}));
    EXPECT_EQ(loop.task_count(), 0u);
}

TEST_F(LoopTest, StopOutsideRunForeverIsIgnored) {
    Lines out;
    Loop& loop = get_event_loop();
    loop.stop();  // nothing running: ignored (CPython would make the next run_forever stop)
    loop.create_task(ticker(&out, "t", 2));
    loop.create_task(stop_after(&out, 3));
    loop.run_forever();
    EXPECT_EQ(out, (Lines{"t 0", "t 1", "stop"}));
}

TEST_F(LoopTest, StopInsideRunUntilCompleteDoesNotEndIt) {
    auto main = []() -> Coro<int> {
        get_event_loop().stop();
        co_await sleep(0);
        co_return 5;
    };
    EXPECT_EQ(run(main()), 5);
}

TEST_F(LoopTest, NewEventLoopDropsPendingTasksAndDestroysTheirFrames) {
    int alive = 0;
    Lines out;
    auto main = [](int* a, Lines* o) -> Coro<> {
        create_task(hold_forever(a));
        create_task(ticker(o, "old", 100));
        co_await sleep(0);
    };
    run(main(&alive, &out));
    EXPECT_EQ(alive, 1);
    new_event_loop();
    EXPECT_EQ(alive, 0);
    EXPECT_EQ(get_event_loop().task_count(), 0u);
    out.clear();
    run(ticker(&out, "new", 1));
    EXPECT_EQ(out, (Lines{"new 0"}));  // the old tasks never run again
}

TEST_F(LoopTest, CloseDestroysPendingTasksAndRefusesFurtherUse) {
    int alive = 0;
    Loop& loop = get_event_loop();
    loop.create_task(hold_forever(&alive));
    loop.run_until_complete([]() -> Coro<> { co_await sleep(0); }());
    EXPECT_EQ(alive, 1);
    loop.close();
    EXPECT_TRUE(loop.is_closed());
    EXPECT_EQ(alive, 0);
    try {
        run([]() -> Coro<> { co_return; }());
        FAIL() << "expected RuntimeError";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "Event loop is closed");
    }
    EXPECT_THROW(create_task([]() -> Coro<> { co_return; }()), RuntimeError);
    new_event_loop();  // reopens
    EXPECT_FALSE(loop.is_closed());
    EXPECT_EQ(run([]() -> Coro<int> { co_return 9; }()), 9);
}

TEST_F(LoopTest, AHandleOutlivingCloseSeesACancelledTaskAndKeepsTheFrameUntilDropped) {
    int alive = 0;
    Task<> t = create_task(hold_forever(&alive));
    run([]() -> Coro<> { co_await sleep(0); }());
    get_event_loop().close();
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(alive, 1);  // the handle keeps the frame
    t = Task<>{};
    EXPECT_EQ(alive, 0);
    new_event_loop();
}

TEST_F(LoopTest, CloseWhileRunningIsRefused) {
    auto main = []() -> Coro<> {
        EXPECT_THROW(get_event_loop().close(), RuntimeError);
        EXPECT_THROW(new_event_loop(), RuntimeError);
        co_return;
    };
    run(main());
    EXPECT_FALSE(get_event_loop().is_closed());
}

TEST_F(LoopTest, TasksWaitingOnEachOtherAreAllDestroyedOnClose) {
    int alive = 0;
    auto waiter = [](int* a, Task<> t) -> Coro<> {
        Alive guard(a);
        co_await t;
    };
    auto main = [](int* a, decltype(waiter) w) -> Coro<> {
        Task<> inner = create_task(hold_forever(a));
        create_task(w(a, inner));
        create_task(w(a, inner));
        co_await sleep(0);
    };
    run(main(&alive, waiter));
    EXPECT_EQ(alive, 3);
    get_event_loop().close();
    EXPECT_EQ(alive, 0);
    new_event_loop();
}

TEST_F(LoopTest, RunCalledFromATaskRunsTheLoopNested) {
    Lines out;
    auto inner = [](Lines* o) -> Coro<int> {
        o->push_back("inner");
        co_await sleep(0);
        co_return 4;
    };
    auto main = [](Lines* o, decltype(inner) in) -> Coro<int> {
        create_task(ticker(o, "t", 2));
        int v = run(in(o));  // MicroPython re-enters the scheduler; so do we
        o->push_back("back in main");
        co_await sleep(0);
        co_return v;
    };
    EXPECT_EQ(run(main(&out, inner)), 4);
    EXPECT_EQ(out, (Lines{"t 0", "inner", "t 1", "back in main"}));
}

// ---- exception handler ----------------------------------------------------------------------

TEST_F(ExceptionHandlerTest, AnUnretrievedExceptionIsReportedWithMessageExceptionAndTask) {
    struct Seen {
        std::string message;
        std::string what;
        Task<> future;
        bool current_is_failed = false;
        int calls = 0;
    };
    static Seen seen;
    seen = Seen{};
    get_event_loop().set_exception_handler([](Loop&, const ExceptionContext& c) {
        ++seen.calls;
        seen.message = c.message;
        seen.future = c.future;
        seen.current_is_failed = current_task() == c.future;  // as in MicroPython
        try {
            std::rethrow_exception(c.exception);
        } catch (const std::runtime_error& e) {
            seen.what = e.what();
        }
    });
    auto main = []() -> Coro<Task<>> {
        Task<> t = create_task(fail_now("orphan failed"));
        co_await sleep_ms(5);
        co_return t;
    };
    Task<> failed = run(main());
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.message, "Task exception wasn't retrieved");
    EXPECT_EQ(seen.what, "orphan failed");
    EXPECT_TRUE(seen.future == failed);
    EXPECT_TRUE(seen.current_is_failed);
    seen = Seen{};
}

TEST_F(ExceptionHandlerTest, TheReportComesOneRoundAfterTheFailure) {
    static Lines out;
    out.clear();
    get_event_loop().set_exception_handler([](Loop&, const ExceptionContext&) { out.push_back("handler"); });
    auto main = []() -> Coro<> {
        create_task(fail_now("x"));
        create_task(ticker(&out, "t", 3));
        co_await sleep_ms(5);
    };
    run(main());
    // fail_now ends in its first step; the report is queued behind "t 0", which was already
    // runnable, and runs before "t 1".
    EXPECT_EQ(out, (Lines{"t 0", "handler", "t 1", "t 2"}));
}

TEST_F(ExceptionHandlerTest, NoReportForAwaitedCancelledOrMainTasksNorNormalReturns) {
    static int calls;
    calls = 0;
    get_event_loop().set_exception_handler([](Loop&, const ExceptionContext&) { ++calls; });
    auto main = []() -> Coro<> {
        Task<> awaited = create_task(fail_now("awaited"));
        Task<> retrieved_later = create_task(fail_now("retrieved before the check"));
        Task<> cancelled = create_task(hold_forever(nullptr));
        create_task([]() -> Coro<> { co_return; }());
        cancelled.cancel();
        EXPECT_THROW(co_await awaited, std::runtime_error);
        EXPECT_THROW(co_await retrieved_later, std::runtime_error);
        co_await sleep_ms(5);
    };
    run(main());
    EXPECT_THROW(run(fail_now("main")), std::runtime_error);
    EXPECT_EQ(calls, 0);
}

TEST_F(ExceptionHandlerTest, TheDefaultHandlerPrintsMessageTaskAndException) {
    ::testing::internal::CaptureStderr();
    auto main = []() -> Coro<> {
        create_task(fail_now("printed"));
        co_await sleep_ms(2);
    };
    run(main());
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("Task exception wasn't retrieved\n"), std::string::npos) << err;
    EXPECT_NE(err.find("future: <Task 0x"), std::string::npos) << err;
    EXPECT_NE(err.find("std::runtime_error: printed\n"), std::string::npos) << err;
}

TEST_F(ExceptionHandlerTest, GetReturnsWhatWasSetAndNullptrRestoresTheDefault) {
    Loop& loop = get_event_loop();
    EXPECT_FALSE(loop.get_exception_handler());
    loop.set_exception_handler([](Loop&, const ExceptionContext&) {});
    EXPECT_TRUE(loop.get_exception_handler());
    loop.set_exception_handler(nullptr);
    EXPECT_FALSE(loop.get_exception_handler());
}

TEST_F(ExceptionHandlerTest, CallExceptionHandlerUsesTheHandlerOrTheDefault) {
    Loop& loop = get_event_loop();
    ExceptionContext context{"custom message", std::make_exception_ptr(std::logic_error("bad")), {}};
    ::testing::internal::CaptureStderr();
    loop.call_exception_handler(context);
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "custom message\nstd::logic_error: bad\n");
    static std::string got;
    loop.set_exception_handler([](Loop&, const ExceptionContext& c) { got = c.message; });
    loop.call_exception_handler(context);
    EXPECT_EQ(got, "custom message");
}

TEST_F(ExceptionHandlerTest, AnExceptionFromTheHandlerPropagatesOutOfRun) {
    get_event_loop().set_exception_handler(
        [](Loop&, const ExceptionContext&) { throw std::logic_error("handler failed"); });
    auto main = []() -> Coro<> {
        create_task(fail_now("x"));
        co_await sleep_ms(5);
    };
    EXPECT_THROW(run(main()), std::logic_error);
    get_event_loop().set_exception_handler(nullptr);
    new_event_loop();  // main is still queued, as in MicroPython (Q10)
}

TEST_F(ExceptionHandlerTest, TheHandlerSurvivesNewEventLoop) {
    Loop& loop = get_event_loop();
    loop.set_exception_handler([](Loop&, const ExceptionContext&) {});
    new_event_loop();
    EXPECT_TRUE(get_event_loop().get_exception_handler());
}

// Issue 10 point 15: run_until_complete (and run, create_task) took only a Coro or a Task;
// the seed and CPython take any awaitable, promoted to a task.
TEST_F(LoopTest, Issue10_RunUntilCompleteRunAndCreateTaskAcceptEveryLibraryAwaitable) {
    Loop& loop = get_event_loop();
    Event ev;
    Task<> setter = create_task([](Event* e) -> Coro<> {
        co_await sleep(0);
        e->set();
    }(&ev));
    EXPECT_TRUE(loop.run_until_complete(ev.wait()));  // Event::wait() gives true
    EXPECT_TRUE(setter.done());

    Lock lock;
    loop.run_until_complete(lock.acquire());
    EXPECT_TRUE(lock.locked());
    lock.release();

    ThreadSafeFlag flag;
    flag.set();
    asyncio::run(flag.wait());  // already set: returns at once, and clears the flag
    auto started = std::chrono::steady_clock::now();
    asyncio::run(sleep_ms(2));
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2));

    Event later;
    Task<bool> waiter = create_task(later.wait());        // a task made of an awaitable
    Task<bool> on_loop = loop.create_task(later.wait());  // the same through the loop
    EXPECT_FALSE(waiter.done());
    later.set();
    EXPECT_TRUE(loop.run_until_complete(waiter));
    EXPECT_TRUE(loop.run_until_complete(on_loop));
}

}  // namespace loop_test
