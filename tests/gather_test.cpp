// gather: results in order, return_exceptions, failures, cancellation, edge cases.
#include <asyncio/asyncio.hpp>

#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace gather_test {

using namespace asyncio;
using Lines = std::vector<std::string>;
using GatherTest = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<int> value_after(int ms, int v) {
    co_await sleep_ms(ms);
    co_return v;
}

Coro<int> raise_after(int ms, std::string what) {
    co_await sleep_ms(ms);
    throw std::runtime_error(what);
}

Coro<> logged_sleep(Lines* out, std::string name, int ms) {
    try {
        co_await sleep_ms(ms);
        out->push_back(name + " finished");
    } catch (const CancelledError&) {
        out->push_back(name + " cancelled");
        throw;
    }
}

// Fails once `go` is set: the test decides when, so no timer race decides the order.
Coro<int> raise_when(Event* go, std::string what) {
    co_await go->wait();
    throw std::runtime_error(what);
}

Coro<> logged_wait(Lines* out, std::string name, Event* go) {
    co_await go->wait();
    out->push_back(name + " finished");
}

Coro<int> value_when(Event* go, int v) {
    co_await go->wait();
    co_return v;
}

// Yields until `lines` is no longer empty (at most `rounds` times): the exception handler's
// report of an unawaited failure comes a few steps after the failure.
Coro<> yield_until_reported(const Lines* lines, int rounds = 20) {
    for (int i = 0; i < rounds && lines->empty(); ++i) co_await sleep(0);
}

std::string what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (const CancelledError&) {
        return "CancelledError";
    }
}

}  // namespace

TEST_F(GatherTest, ResultsComeInArgumentOrderWhateverTheCompletionOrder) {
    auto main = []() -> Coro<> {
        auto [a, b, c] = co_await gather(value_after(30, 1), value_after(10, 2), value_after(20, 3));
        EXPECT_EQ(a, 1);
        EXPECT_EQ(b, 2);
        EXPECT_EQ(c, 3);
    };
    run(main());
}

TEST_F(GatherTest, MixesCorosTasksAndVoidResults) {
    auto main = []() -> Coro<> {
        Lines out;
        Task<int> t = create_task(value_after(1, 5));
        auto r = co_await gather(t, logged_sleep(&out, "v", 1), value_after(2, 6));
        EXPECT_EQ(std::get<0>(r), 5);
        EXPECT_TRUE((std::is_same_v<std::tuple_element_t<1, decltype(r)>, std::monostate>));
        EXPECT_EQ(std::get<2>(r), 6);
        EXPECT_EQ(out, (Lines{"v finished"}));
    };
    run(main());
}

TEST_F(GatherTest, GathersARangeOfTasksIntoAVector) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> tasks;
        for (int i = 0; i < 100; ++i) tasks.push_back(create_task(value_after(i % 7, i)));
        std::vector<int> r = co_await gather(tasks);
        EXPECT_EQ(r.size(), 100u);
        for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i], static_cast<int>(i));
    };
    run(main());
}

// 40,000 children need megabytes of gather bookkeeping, which comes from mapped memory in
// Release builds (detail::allocate_large): every value arrives, and after a failure the
// bookkeeping is let go of while the other children still run, without them touching it.
TEST_F(GatherTest, AGatherOfTensOfThousandsOfTasksGivesEveryValueAndLetsGoOnAFailure) {
    auto main = []() -> Coro<> {
        constexpr int kChildren = 40'000;
        std::vector<Task<int>> tasks;
        for (int i = 0; i < kChildren; ++i) tasks.push_back(create_task(value_after(i % 3, i)));
        std::vector<int> r = co_await gather(std::move(tasks));
        EXPECT_EQ(r.size(), std::size_t{kChildren});
        long long sum = 0;
        for (std::size_t i = 0; i < r.size(); ++i) sum += r[i] == static_cast<int>(i) ? 1 : 0;
        EXPECT_EQ(sum, kChildren);

        Event go;
        std::vector<Task<int>> waiting;
        for (int i = 0; i < kChildren; ++i) waiting.push_back(create_task(value_when(&go, i)));
        std::vector<Task<int>> gathered = waiting;
        gathered.push_back(create_task(raise_after(1, "boom")));
        try {
            co_await gather(std::move(gathered));
            ADD_FAILURE() << "expected an exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "boom");
        }
        go.set();
        long long finished = 0;
        for (Task<int>& t : waiting) finished += (co_await t) >= 0 ? 1 : 0;
        EXPECT_EQ(finished, kChildren);
    };
    run(main());
}

TEST_F(GatherTest, NothingToGatherReturnsAtOnce) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        create_task(logged_sleep(o, "other", 0));
        std::tuple<> none = co_await gather();
        (void)none;
        std::vector<int> empty = co_await gather(std::vector<Task<int>>{});
        EXPECT_TRUE(empty.empty());
        o->push_back("gathered");  // no suspension happened
        co_await sleep_ms(1);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"gathered", "other finished"}));
}

TEST_F(GatherTest, TheSameTaskTwiceAndFinishedTasksAreFine) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(1, 4));
        Task<int> done = create_task(value_after(0, 8));
        co_await sleep_ms(2);  // `done` has finished; `t` too
        Task<int> slow = create_task(value_after(5, 9));
        auto [a, b, c, d] = co_await gather(slow, slow, done, t);
        EXPECT_EQ(a, 9);
        EXPECT_EQ(b, 9);
        EXPECT_EQ(c, 8);
        EXPECT_EQ(d, 4);
    };
    run(main());
}

TEST_F(GatherTest, AGatheredTaskMayAlsoBeAwaitedElsewhere) {
    auto other = [](Task<int> t) -> Coro<int> { co_return co_await t; };
    auto main = [](decltype(other) o) -> Coro<> {
        Task<int> t = create_task(value_after(5, 3));
        Task<int> waiter = create_task(o(t));
        auto [a] = co_await gather(t);
        EXPECT_EQ(a, 3);
        EXPECT_EQ(co_await waiter, 3);
    };
    run(main(other));
}

TEST_F(GatherTest, TheFirstExceptionPropagatesAndOtherTasksKeepRunning) {
    static Lines out;
    static Lines reported;
    out.clear();
    reported.clear();
    get_event_loop().set_exception_handler(
        [](Loop&, const ExceptionContext& c) { reported.push_back("reported " + what_of(c.exception)); });
    auto main = [](Lines* o) -> Coro<> {
        Event release_second, release_slow;
        Task<> slow = create_task(logged_wait(o, "slow", &release_slow));
        try {
            co_await gather(raise_when(&release_second, "second"), raise_after(0, "first"), slow);
            ADD_FAILURE() << "expected an exception";
        } catch (const std::runtime_error& e) {
            o->push_back(std::string("caught ") + e.what());
        }
        // "second" fails only now, after gather gave up on it: nobody watches it any more.
        release_second.set();
        co_await yield_until_reported(&reported);
        o->insert(o->end(), reported.begin(), reported.end());
        release_slow.set();
        co_await slow;  // not cancelled by the failure
    };
    run(main(&out));
    // The other failing task was no longer watched: its failure went to the handler.
    EXPECT_EQ(out, (Lines{"caught first", "reported second", "slow finished"}));
}

TEST_F(GatherTest, ALaterFailureOfAnUnwatchedTaskReachesTheExceptionHandler) {
    static Lines reported;
    reported.clear();
    get_event_loop().set_exception_handler(
        [](Loop&, const ExceptionContext& c) { reported.push_back(what_of(c.exception)); });
    auto main = []() -> Coro<> {
        Event release_later;
        EXPECT_THROW(co_await gather(raise_after(0, "first"), raise_when(&release_later, "later")),
                     std::runtime_error);
        release_later.set();
        co_await yield_until_reported(&reported);
    };
    run(main());
    EXPECT_EQ(reported, (Lines{"later"}));
}

TEST_F(GatherTest, TasksThatFailedBeforeTheGatherRaiseInArgumentOrder) {
    auto main = []() -> Coro<> {
        Task<int> a = create_task(raise_after(0, "a"));
        Task<int> b = create_task(raise_after(0, "b"));
        co_await sleep(0);
        co_await sleep(0);  // both have failed; their reports are not due yet
        EXPECT_TRUE(a.done());
        EXPECT_TRUE(b.done());
        try {
            co_await gather(value_after(1, 0), b, a);
            ADD_FAILURE() << "expected an exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "b");
        }
        EXPECT_THROW(co_await a, std::runtime_error);
        co_await sleep_ms(3);  // the first argument's task finishes
    };
    run(main());
}

TEST_F(GatherTest, ReturnExceptionsPutsExceptionsInPlaceOfValues) {
    auto main = []() -> Coro<> {
        Task<int> cancelled = create_task(value_after(1000, 0));
        cancelled.cancel();
        auto [a, b, c] = co_await gather(return_exceptions, value_after(2, 1), raise_after(1, "boom"), cancelled);
        EXPECT_EQ(a.index(), 0u);
        EXPECT_EQ(std::get<0>(a), 1);
        EXPECT_EQ(b.index(), 1u);
        EXPECT_EQ(what_of(std::get<1>(b)), "boom");
        EXPECT_EQ(c.index(), 1u);
        EXPECT_EQ(what_of(std::get<1>(c)), "CancelledError");
    };
    run(main());
}

TEST_F(GatherTest, ReturnExceptionsOverARange) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> tasks{create_task(value_after(1, 1)), create_task(raise_after(1, "x"))};
        auto r = co_await gather(return_exceptions, tasks);
        EXPECT_EQ(r.size(), 2u);
        EXPECT_EQ(std::get<0>(r[0]), 1);
        EXPECT_EQ(what_of(std::get<1>(r[1])), "x");
    };
    run(main());
}

TEST_F(GatherTest, AChildCancelledBySomeoneElseMakesTheGatherRaiseCancelledError) {
    auto main = []() -> Coro<> {
        Task<int> child = create_task(value_after(1000, 1));
        Task<int> other = create_task(value_after(1, 2));
        create_task([](Task<int> c) -> Coro<> {
            co_await sleep_ms(2);
            c.cancel();
        }(child));
        EXPECT_THROW(co_await gather(child, other), CancelledError);
    };
    run(main());
}

TEST_F(GatherTest, CancellingTheGatheringTaskCancelsEveryChild) {
    Lines out;
    auto gatherer = [](Lines* o) -> Coro<> {
        try {
            co_await gather(logged_sleep(o, "a", 1000), logged_sleep(o, "b", 1000));
        } catch (const CancelledError&) {
            o->push_back("gather cancelled");
            throw;
        }
    };
    auto main = [](Lines* o, decltype(gatherer) g) -> Coro<> {
        Task<> t = create_task(g(o));
        co_await sleep_ms(2);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        co_await sleep_ms(2);
    };
    run(main(&out, gatherer));
    // The gather does not wait for the children: it raises first, they end after.
    EXPECT_EQ(out, (Lines{"gather cancelled", "a cancelled", "b cancelled"}));
}

TEST_F(GatherTest, ACancelAfterEveryChildFinishedStillRaisesCancelledError) {
    auto gatherer = []() -> Coro<int> {
        auto [a] = co_await gather(value_after(1, 1));
        co_return a;
    };
    auto main = [](decltype(gatherer) g) -> Coro<> {
        Task<int> t = create_task(g());
        Task<int> racer = create_task(value_after(1, 0));
        co_await racer;  // wakes with the child's timer; the gather is woken just before us
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
    };
    run(main(gatherer));
}

TEST_F(GatherTest, GatherAcceptsTheLibrarysOwnAwaitables) {
    auto main = []() -> Coro<> {
        Event ev;
        Lock lock;
        auto setter = [](Event* e) -> Coro<> {
            co_await sleep_ms(1);
            e->set();
        };
        auto [woke, none, value] = co_await gather(ev.wait(), lock.acquire(), setter(&ev));
        EXPECT_TRUE(woke);
        EXPECT_TRUE(lock.locked());
        (void)none;
        (void)value;
        lock.release();
    };
    run(main());
}

// Issue 10 point 18: Python's gather(*coros) over a vector of coroutines was a 42-line error.
TEST_F(GatherTest, Issue10_GatherOverAVectorOfCorosRunsThemAsTasksAndGivesAVector) {
    auto main = []() -> Coro<> {
        std::vector<Coro<int>> coros;
        for (int i = 0; i < 5; ++i) coros.push_back(value_after(5 - i, i * 10));
        std::vector<int> values = co_await gather(std::move(coros));
        EXPECT_EQ(values, (std::vector<int>{0, 10, 20, 30, 40}));

        std::vector<Coro<>> voids;
        voids.push_back([]() -> Coro<> { co_return; }());
        voids.push_back([]() -> Coro<> { co_await sleep(0); }());
        std::vector<std::monostate> none = co_await gather(std::move(voids));
        EXPECT_EQ(none.size(), 2u);
    };
    run(main());
}

TEST_F(GatherTest, Issue10_GatherOverAVectorOfCorosWithReturnExceptions) {
    auto main = []() -> Coro<> {
        std::vector<Coro<int>> coros;
        coros.push_back(value_after(1, 7));
        coros.push_back(raise_after(1, "bad"));
        auto r = co_await gather(return_exceptions, std::move(coros));
        EXPECT_EQ(r.size(), 2u);
        EXPECT_EQ(std::get<0>(r[0]), 7);
        EXPECT_EQ(r[1].index(), 1u);
        EXPECT_THROW(std::rethrow_exception(std::get<1>(r[1])), std::runtime_error);
    };
    run(main());
}

}  // namespace gather_test
