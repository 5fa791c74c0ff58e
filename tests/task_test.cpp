// Task<T>, create_task, current_task: scheduling order, awaiting, cancellation.
#include <asyncio/asyncio.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using TaskTest = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> log_line(Lines* out, std::string s) {
    out->push_back(std::move(s));
    co_return;
}

Coro<> yielder(Lines* out, std::string name, int n) {
    for (int i = 0; i < n; ++i) {
        out->push_back(name + " " + std::to_string(i));
        co_await sleep(0);
    }
}

Coro<int> value_after(int ms, int v) {
    co_await sleep_ms(ms);
    co_return v;
}

Coro<int> raise_after(int ms) {
    co_await sleep_ms(ms);
    throw std::runtime_error("task failed");
}

Coro<> sleeper(Lines* out, std::string name, int ms) {
    try {
        co_await sleep_ms(ms);
        out->push_back(name + " woke");
    } catch (const CancelledError&) {
        out->push_back(name + " cancelled");
        throw;
    }
}

}  // namespace

TEST_F(TaskTest, ACreatedTaskFirstRunsWhenTheCreatorSuspends) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        create_task(log_line(o, "child"));
        o->push_back("created");
        co_await sleep(0);
        o->push_back("resumed");
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"created", "child", "resumed"}));
}

TEST_F(TaskTest, RunnableTasksRunInFifoOrderAndYieldRequeuesAtTheBack) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Task<> a = create_task(yielder(o, "a", 3));
        Task<> b = create_task(yielder(o, "b", 3));
        co_await a;
        co_await b;
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a 0", "b 0", "a 1", "b 1", "a 2", "b 2"}));
}

TEST_F(TaskTest, AwaitingATaskGivesItsValue) {
    auto main = []() -> Coro<int> {
        Task<int> t = create_task(value_after(1, 41));
        co_return co_await t + 1;
    };
    EXPECT_EQ(run(main()), 42);
}

TEST_F(TaskTest, AwaitingAFinishedTaskDoesNotSuspendAndRepeatsTheValue) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Task<int> t = create_task(value_after(0, 5));
        co_await sleep_ms(5);
        EXPECT_TRUE(t.done());
        create_task(log_line(o, "other"));
        int a = co_await t;  // done: no scheduling point, "other" must not run yet
        int b = co_await t;
        o->push_back("values " + std::to_string(a) + " " + std::to_string(b));
        co_await sleep(0);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"values 5 5", "other"}));
}

TEST_F(TaskTest, AwaitingATaskRethrowsItsExceptionToEveryWaiter) {
    auto waiter = [](Task<int> t) -> Coro<std::string> {
        try {
            co_await t;
        } catch (const std::runtime_error& e) {
            co_return e.what();
        }
        co_return "no exception";
    };
    auto main = [](decltype(waiter) w) -> Coro<> {
        Task<int> failing = create_task(raise_after(1));
        Task<std::string> w1 = create_task(w(failing));
        Task<std::string> w2 = create_task(w(failing));
        EXPECT_EQ(co_await w1, "task failed");
        EXPECT_EQ(co_await w2, "task failed");
    };
    run(main(waiter));
}

TEST_F(TaskTest, WaitersOfATaskAreWokenInTheOrderTheyBeganWaiting) {
    Lines out;
    auto waiter = [](Lines* o, std::string name, Task<int> t) -> Coro<> {
        co_await t;
        o->push_back(name);
    };
    auto main = [](Lines* o, decltype(waiter) w) -> Coro<> {
        Task<int> t = create_task(value_after(2, 0));
        Task<> c = create_task(w(o, "c", t));
        Task<> a = create_task(w(o, "a", t));
        Task<> b = create_task(w(o, "b", t));
        co_await b;
        co_await a;
        co_await c;
    };
    run(main(&out, waiter));
    EXPECT_EQ(out, (Lines{"c", "a", "b"}));
}

// A task's waiter list is one pointer (the head; its back link is the tail): nodes leave from
// the head, the middle and the tail in O(1), and the rest keep the order they were linked in.
TEST(WaiterList, NodesUnlinkFromAnyPositionAndTheRestKeepTheirOrder) {
    struct Node : detail::TaskWaiter {
        Node(Lines* o, std::string n) : TaskWaiter(&on_done), out(o), name(std::move(n)) {}
        static void on_done(detail::TaskWaiter& w) noexcept {
            auto& self = static_cast<Node&>(w);
            self.out->push_back(self.name);
        }
        Lines* out;
        std::string name;
    };
    auto order = [](const detail::TaskBase& t) {
        Lines names;
        for (const detail::TaskWaiter* w = t.waiters.front(); w != nullptr; w = w->next_in_list()) {
            names.push_back(static_cast<const Node*>(w)->name);
        }
        return names;
    };
    Lines notified;
    detail::TaskBase target;
    Node a(&notified, "a"), b(&notified, "b"), c(&notified, "c"), d(&notified, "d"), e(&notified, "e");
    for (Node* n : {&a, &b, &c, &d, &e}) n->link(target, nullptr);
    EXPECT_EQ(order(target), (Lines{"a", "b", "c", "d", "e"}));
    c.unlink();  // middle
    e.unlink();  // tail
    EXPECT_FALSE(e.linked());
    EXPECT_EQ(order(target), (Lines{"a", "b", "d"}));
    e.link(target, nullptr);  // after a tail was removed, a new one goes to the end
    a.unlink();  // head
    EXPECT_EQ(order(target), (Lines{"b", "d", "e"}));
    {
        Node f(&notified, "f");
        f.link(target, nullptr);
    }  // a node destroyed while linked unlinks itself (the tail)
    EXPECT_EQ(order(target), (Lines{"b", "d", "e"}));
    while (detail::TaskWaiter* w = target.waiters.pop_front()) w->notify();
    EXPECT_EQ(notified, (Lines{"b", "d", "e"}));
    EXPECT_TRUE(target.waiters.empty());
    d.link(target, nullptr);  // the only node, then none
    d.unlink();
    EXPECT_TRUE(target.waiters.empty());
    b.link(target, nullptr);
    EXPECT_EQ(order(target), (Lines{"b"}));
    b.unlink();
}

TEST_F(TaskTest, DroppingEveryHandleDoesNotStopATask) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        create_task(sleeper(o, "detached", 1));
        co_await sleep_ms(20);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"detached woke"}));
}

TEST_F(TaskTest, DoneIsFalseUntilTheTaskFinishes) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(1, 1));
        EXPECT_FALSE(t.done());
        co_await sleep(0);
        EXPECT_FALSE(t.done());
        co_await t;
        EXPECT_TRUE(t.done());
    };
    run(main());
}

TEST_F(TaskTest, HandlesAreCopiesOfOneTaskAndCompareEqual) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(0, 3));
        Task<int> u = t;
        Task<> erased = t;
        EXPECT_TRUE(t == u);
        EXPECT_TRUE(erased == t);
        EXPECT_FALSE(Task<>{});
        co_await erased;  // the type-erased handle waits too (value discarded)
        EXPECT_TRUE(u.done());
        EXPECT_EQ(co_await u, 3);
    };
    run(main());
}

TEST_F(TaskTest, CurrentTaskIsTheRunningTask) {
    auto child = [](Task<>* seen) -> Coro<> {
        *seen = current_task();
        co_return;
    };
    auto main = [](decltype(child) c) -> Coro<> {
        Task<> seen;
        Task<> t = create_task(c(&seen));
        co_await t;
        EXPECT_TRUE(seen == t);
        EXPECT_FALSE(seen == current_task());
    };
    run(main(child));
}

TEST_F(TaskTest, CurrentTaskOutsideATaskRaisesNoRunningEventLoop) {
    try {
        current_task();
        FAIL() << "expected RuntimeError";
    } catch (const RuntimeError& e) {
        EXPECT_STREQ(e.what(), "no running event loop");
    }
}

TEST_F(TaskTest, ATaskCreatedBeforeTheLoopRunsWaitsForTheNextRun) {
    Lines out;
    Task<> t = create_task(log_line(&out, "early"));
    EXPECT_TRUE(out.empty());
    auto main = [](Lines* o) -> Coro<> {
        o->push_back("main");
        co_return;
    };
    run(main(&out));
    // The early task was queued first, so it ran before main.
    EXPECT_EQ(out, (Lines{"early", "main"}));
    EXPECT_TRUE(t.done());
}

TEST_F(TaskTest, CreateTaskOfAnEmptyCoroRaises) {
    Coro<> empty;
    EXPECT_THROW(create_task(std::move(empty)), RuntimeError);
}

TEST_F(TaskTest, AwaitingItselfRaisesInsteadOfDeadlocking) {
    auto main = []() -> Coro<> {
        Task<> self = current_task();
        EXPECT_THROW(co_await self, RuntimeError);
    };
    run(main());
}

// ---- cancellation -------------------------------------------------------------------------

TEST_F(TaskTest, CancelBeforeTheFirstRunMeansTheBodyNeverRuns) {
    Lines out;
    auto body = [](Lines* o) -> Coro<> {
        o->push_back("body ran");
        co_return;
    };
    auto main = [](Lines* o, decltype(body) b) -> Coro<> {
        Task<> t = create_task(b(o));
        EXPECT_TRUE(t.cancel());
        EXPECT_FALSE(t.done());  // not processed yet
        EXPECT_THROW(co_await t, CancelledError);
        EXPECT_TRUE(t.done());
    };
    run(main(&out, body));
    EXPECT_TRUE(out.empty());
}

TEST_F(TaskTest, CancelOfASleepingTaskWakesItAtOnceWithCancelledError) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Task<> t = create_task(sleeper(o, "s", 10'000));
        co_await sleep(0);
        auto start = detail::loop_clock_ns();
        EXPECT_TRUE(t.cancel());
        EXPECT_THROW(co_await t, CancelledError);
        EXPECT_LT(detail::loop_clock_ns() - start, 1'000'000'000);  // not the 10 s sleep
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"s cancelled"}));
    EXPECT_EQ(detail::tls_scheduler->timers.size(), 0u);  // no stale timer left behind
}

TEST_F(TaskTest, CancelCalledSeveralTimesDeliversOneCancelledError) {
    Lines out;
    auto stubborn = [](Lines* o) -> Coro<int> {
        int caught = 0;
        for (int i = 0; i < 3; ++i) {
            try {
                co_await sleep_ms(1000);
            } catch (const CancelledError&) {
                ++caught;
                o->push_back("caught");
            }
            if (caught == 1) break;
        }
        co_return caught;
    };
    auto main = [](decltype(stubborn) s, Lines* o) -> Coro<> {
        Task<int> t = create_task(s(o));
        co_await sleep(0);
        EXPECT_TRUE(t.cancel());
        EXPECT_TRUE(t.cancel());
        EXPECT_TRUE(t.cancel());
        EXPECT_EQ(co_await t, 1);
    };
    run(main(stubborn, &out));
    EXPECT_EQ(out, (Lines{"caught"}));
}

TEST_F(TaskTest, CancelOfAFinishedTaskReturnsFalse) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(0, 1));
        co_await t;
        EXPECT_FALSE(t.cancel());
        Task<int> c = create_task(value_after(100, 1));
        c.cancel();
        EXPECT_THROW(co_await c, CancelledError);
        EXPECT_FALSE(c.cancel());  // already finished, cancelled
    };
    run(main());
}

TEST_F(TaskTest, CancellingTheCurrentTaskIsRefused) {
    auto main = []() -> Coro<> {
        try {
            current_task().cancel();
            ADD_FAILURE() << "expected RuntimeError";
        } catch (const RuntimeError& e) {
            EXPECT_STREQ(e.what(), "can't cancel self");
        }
        co_return;
    };
    run(main());
}

TEST_F(TaskTest, ATaskMayCatchCancelledErrorAndCarryOn) {
    auto resilient = []() -> Coro<int> {
        try {
            co_await sleep_ms(1000);
        } catch (const CancelledError&) {
        }
        co_await sleep(0);
        co_return 7;
    };
    auto main = [](decltype(resilient) r) -> Coro<> {
        Task<int> t = create_task(r());
        co_await sleep(0);
        t.cancel();
        EXPECT_EQ(co_await t, 7);
    };
    run(main(resilient));
}

TEST_F(TaskTest, CancelOfATaskAwaitingAnotherIsForwardedDownTheChain) {
    Lines out;
    auto outer = [](Lines* o, Task<> inner) -> Coro<> {
        try {
            co_await inner;
            o->push_back("outer finished");
        } catch (const CancelledError&) {
            o->push_back("outer cancelled");
            throw;
        }
    };
    auto main = [](Lines* o, decltype(outer) f) -> Coro<> {
        Task<> inner = create_task(sleeper(o, "inner", 10'000));
        Task<> t = create_task(f(o, inner));
        co_await sleep(0);
        EXPECT_TRUE(t.cancel());
        EXPECT_THROW(co_await t, CancelledError);
        EXPECT_TRUE(inner.done());
    };
    run(main(&out, outer));
    EXPECT_EQ(out, (Lines{"inner cancelled", "outer cancelled"}));
}

TEST_F(TaskTest, IfTheInnerTaskSwallowsAForwardedCancelTheOuterCarriesOn) {
    auto inner_body = []() -> Coro<int> {
        try {
            co_await sleep_ms(10'000);
        } catch (const CancelledError&) {
            co_return 1;
        }
        co_return 0;
    };
    auto outer = [](Task<int> inner) -> Coro<int> { co_return 10 + co_await inner; };
    auto main = [](decltype(inner_body) ib, decltype(outer) ob) -> Coro<> {
        Task<int> inner = create_task(ib());
        Task<int> t = create_task(ob(inner));
        co_await sleep(0);
        t.cancel();
        EXPECT_EQ(co_await t, 11);
    };
    run(main(inner_body, outer));
}

TEST_F(TaskTest, AWaiterCancelledAfterItsTaskFinishedGetsCancelledError) {
    // SEMANTICS.md 4.2: woken but not yet resumed, then cancelled: CancelledError wins.
    auto waiter = [](Task<int> t) -> Coro<int> { co_return co_await t; };
    auto main = [](decltype(waiter) w) -> Coro<> {
        Task<int> t = create_task(value_after(1, 5));
        Task<int> wt = create_task(w(t));
        co_await t;  // main is woken before wt (it began waiting first)...
        EXPECT_TRUE(wt.cancel());  // ...so wt is queued with the value, not yet resumed
        EXPECT_THROW(co_await wt, CancelledError);
    };
    run(main(waiter));
}

TEST_F(TaskTest, AnAwaitCycleIsRefusedSoCancelCannotLoopForever) {
    auto a_body = [](Task<>* other) -> Coro<> {
        co_await sleep(0);
        co_await *other;
    };
    auto main = [](decltype(a_body) ab) -> Coro<> {
        Task<> b;
        Task<> a = create_task(ab(&b));
        b = current_task();
        co_await sleep(0);
        co_await sleep(0);  // a now awaits main
        EXPECT_THROW(co_await a, RuntimeError);
        a.cancel();  // forwarded to main itself: refused
    };
    EXPECT_THROW(run(main(a_body)), RuntimeError);
    new_event_loop();
}

// Issue 10 point 3: an empty handle (default-constructed, or the `future` of an exception
// context that no task raised) used to dereference null in done(), cancel() and co_await.
TEST_F(TaskTest, Issue10_AnEmptyTaskRaisesRuntimeErrorOnDoneCancelAndAwaitButComparesAndTests) {
    Task<> empty;
    Task<int> empty_int;
    EXPECT_FALSE(empty);
    EXPECT_TRUE(empty == Task<>());
    EXPECT_THROW((void)empty.done(), RuntimeError);
    EXPECT_THROW(empty.cancel(), RuntimeError);
    EXPECT_THROW((void)empty_int.done(), RuntimeError);
    auto main = [](Task<> e, Task<int> ei) -> Coro<> {
        EXPECT_FALSE(e == current_task());
        try {
            co_await e;
            ADD_FAILURE() << "expected RuntimeError";
        } catch (const RuntimeError& err) {
            EXPECT_NE(std::string(err.what()).find("Task is empty"), std::string::npos) << err.what();
        }
        EXPECT_THROW(co_await ei, RuntimeError);
        Task<int> moved_from = create_task([]() -> Coro<int> { co_return 1; }());
        Task<int> owner = std::move(moved_from);
        EXPECT_THROW(co_await moved_from, RuntimeError);  // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(co_await owner, 1);
    };
    run(main(empty, empty_int));
}

TEST_F(TaskTest, Issue10_TheFutureOfAContextNoTaskRaisedIsAnEmptyTaskThatRaisesOnUse) {
    ExceptionContext context{"no task here", nullptr, {}};
    EXPECT_FALSE(context.future);
    EXPECT_THROW((void)context.future.done(), RuntimeError);
    EXPECT_THROW(context.future.cancel(), RuntimeError);
    std::string seen;
    get_event_loop().set_exception_handler([&seen](Loop&, const ExceptionContext& c) {
        seen = c.message;
        EXPECT_THROW((void)c.future.done(), RuntimeError);
    });
    get_event_loop().call_exception_handler(context);
    EXPECT_EQ(seen, "no task here");
}

// Issue 10 point 4: create_task of a Coro that was already awaited resumed a finished frame.
TEST_F(TaskTest, Issue10_CreateTaskOfAnAlreadyAwaitedCoroRaisesRuntimeError) {
    auto main = []() -> Coro<> {
        Coro<int> c = []() -> Coro<int> { co_return 4; }();
        EXPECT_EQ(co_await std::move(c), 4);
        try {
            create_task(std::move(c));
            ADD_FAILURE() << "expected RuntimeError";
        } catch (const RuntimeError& e) {
            EXPECT_NE(std::string(e.what()).find("awaited twice"), std::string::npos) << e.what();
        }
        Coro<> d = []() -> Coro<> { co_return; }();
        Task<> t = create_task(std::move(d));
        try {
            create_task(std::move(d));  // NOLINT(bugprone-use-after-move)
            ADD_FAILURE() << "expected RuntimeError";
        } catch (const RuntimeError& e) {
            EXPECT_NE(std::string(e.what()).find("Coro is empty"), std::string::npos) << e.what();
        }
        co_await t;
        EXPECT_EQ(get_event_loop().task_count(), 1u);  // no task was made of the bad Coros
    };
    run(main());
}
