// Event: set / clear / is_set / wait, wake order, cancellation of a waiter.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using EventTest = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> wait_and_log(Event* ev, Lines* out, std::string name) {
    bool r = co_await ev->wait();
    out->push_back(name + (r ? " woke" : " false"));
}

Coro<> log_line(Lines* out, std::string s) {
    out->push_back(std::move(s));
    co_return;
}

}  // namespace

TEST_F(EventTest, AnEventStartsClearedAndReportsItsFlag) {
    Event ev;
    EXPECT_FALSE(ev.is_set());
    ev.set();
    EXPECT_TRUE(ev.is_set());
    ev.clear();
    EXPECT_FALSE(ev.is_set());
}

TEST_F(EventTest, SetWakesEveryWaiterInTheOrderTheyBeganWaiting) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Event ev;
        Task<> b = create_task(wait_and_log(&ev, o, "b"));
        Task<> a = create_task(wait_and_log(&ev, o, "a"));
        Task<> c = create_task(wait_and_log(&ev, o, "c"));
        co_await sleep(0);
        o->push_back("set");
        ev.set();
        co_await gather(a, b, c);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"set", "b woke", "a woke", "c woke"}));
}

TEST_F(EventTest, WaitOnASetEventReturnsWithoutSuspending) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Event ev;
        ev.set();
        create_task(log_line(o, "other"));
        EXPECT_TRUE(co_await ev.wait());  // no scheduling point: "other" has not run
        o->push_back("after wait");
        co_await sleep(0);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"after wait", "other"}));
}

TEST_F(EventTest, ClearAfterSetStillLetsWokenWaitersReturn) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Event ev;
        Task<> a = create_task(wait_and_log(&ev, o, "a"));
        co_await sleep(0);
        ev.set();
        ev.clear();
        co_await a;
        EXPECT_FALSE(ev.is_set());
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a woke"}));
}

TEST_F(EventTest, CancellingAWaiterRemovesOnlyThatWaiter) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Event ev;
        Task<> a = create_task(wait_and_log(&ev, o, "a"));
        Task<> b = create_task(wait_and_log(&ev, o, "b"));
        Task<> c = create_task(wait_and_log(&ev, o, "c"));
        co_await sleep(0);
        b.cancel();
        EXPECT_THROW(co_await b, CancelledError);
        ev.set();
        co_await a;
        co_await c;
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a woke", "c woke"}));
}

TEST_F(EventTest, AWaiterCancelledAfterSetButBeforeRunningGetsCancelledError) {
    auto main = []() -> Coro<> {
        Event ev;
        Lines out;
        Task<> a = create_task(wait_and_log(&ev, &out, "a"));
        co_await sleep(0);
        ev.set();
        a.cancel();
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_TRUE(out.empty());
    };
    run(main());
}

TEST_F(EventTest, SetClearWaitLoopsDoNotStarveOtherTasks) {
    // MicroPython's asyncio_event_fair: woken tasks go to the back of the run queue.
    Lines out;
    auto setter = [](Event* ev, Lines* o) -> Coro<> {
        for (int i = 0; i < 3; ++i) {
            ev->set();
            o->push_back("set");
            co_await sleep(0);
        }
    };
    auto waiter = [](Event* ev, Lines* o) -> Coro<> {
        for (int i = 0; i < 3; ++i) {
            co_await ev->wait();
            ev->clear();
            o->push_back("waited");
        }
    };
    auto other = [](Lines* o) -> Coro<> {
        for (int i = 0; i < 3; ++i) {
            o->push_back("other");
            co_await sleep(0);
        }
    };
    auto main = [](Lines* o, decltype(setter) s, decltype(waiter) w, decltype(other) ot) -> Coro<> {
        Event ev;
        Task<> tw = create_task(w(&ev, o));
        Task<> ts = create_task(s(&ev, o));
        Task<> to = create_task(ot(o));
        co_await gather(tw, ts, to);
    };
    run(main(&out, setter, waiter, other));
    EXPECT_EQ(out, (Lines{"set", "other", "waited", "set", "other", "waited", "set", "other", "waited"}));
}

TEST_F(EventTest, DestroyingAnEventWakesItsWaitersWithCancelledError) {
    auto main = []() -> Coro<> {
        Lines out;
        Task<> a;
        {
            Event ev;
            a = create_task(wait_and_log(&ev, &out, "a"));
            co_await sleep(0);
        }
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_TRUE(out.empty());
    };
    run(main());
}
