// Port of micropython tests/extmod/asyncio_event.py
// Checks: Event set/clear/is_set with nobody waiting; set() wakes every waiter in the order
// they began waiting; wait() on a set event returns at once; a cancelled waiter is removed
// (whether the cancel comes just after or just before set()); wait_for() around Event::wait()
// succeeds when the event is set in time and raises TimeoutError when it is not.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_event_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioEvent = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

std::string str(bool b) { return b ? "True" : "False"; }

Coro<> task(int id, Event* ev, Trace* trace) {
    (*trace)("start " + std::to_string(id));
    bool r = co_await ev->wait();
    (*trace)(str(r));
    (*trace)("end " + std::to_string(id));
}

Coro<> task_delay_set(double t, Event* ev, Trace* trace) {
    co_await sleep(t);
    (*trace)("set event");
    ev->set();
}

Coro<> main_task(Trace* trace) {
    // Python rebinds `ev` to fresh Events; an Event is neither copyable nor movable here, so
    // each one gets its own name (they all live until the end of main).
    Event ev;
    Event ev5;
    Event ev6;

    // Set and clear without anything waiting, and test is_set()
    (*trace)(str(ev.is_set()));
    ev.set();
    (*trace)(str(ev.is_set()));
    ev.clear();
    (*trace)(str(ev.is_set()));

    // Create 2 tasks waiting on the event
    (*trace)("----");
    create_task(task(1, &ev, trace));
    create_task(task(2, &ev, trace));
    (*trace)("yield");
    co_await sleep(0);
    (*trace)("set event");
    ev.set();
    (*trace)("yield");
    co_await sleep(0);

    // Create a task waiting on the already-set event
    (*trace)("----");
    create_task(task(3, &ev, trace));
    (*trace)("yield");
    co_await sleep(0);

    // Clear event, start a task, then set event again
    (*trace)("----");
    (*trace)("clear event");
    ev.clear();
    create_task(task(4, &ev, trace));
    co_await sleep(0);
    (*trace)("set event");
    ev.set();
    co_await sleep(0);

    // Cancel a task waiting on an event (set event then cancel task)
    (*trace)("----");
    Task<> t = create_task(task(5, &ev5, trace));
    co_await sleep(0);
    ev5.set();
    t.cancel();
    co_await sleep(0.1);

    // Cancel a task waiting on an event (cancel task then set event)
    (*trace)("----");
    t = create_task(task(6, &ev6, trace));
    co_await sleep(0);
    t.cancel();
    ev6.set();
    co_await sleep(0.1);

    // Wait for an event that does get set in time
    (*trace)("----");
    ev6.clear();
    create_task(task_delay_set(0.01, &ev6, trace));
    co_await wait_for(ev6.wait(), 0.1);
    co_await sleep(0);

    // Wait for an event that doesn't get set in time
    (*trace)("----");
    ev6.clear();
    create_task(task_delay_set(0.1, &ev6, trace));
    try {
        co_await wait_for(ev6.wait(), 0.01);
    } catch (const TimeoutError&) {
        (*trace)("TimeoutError");
    }
    co_await ev6.wait();
}

}  // namespace

TEST_F(AsyncioEvent, SetWakesEveryWaiterInOrderAndACancelledWaiterIsRemoved) {
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "False",
                               "True",
                               "False",
                               "----",
                               "yield",
                               "start 1",
                               "start 2",
                               "set event",
                               "yield",
                               "True",
                               "end 1",
                               "True",
                               "end 2",
                               "----",
                               "yield",
                               "start 3",
                               "True",
                               "end 3",
                               "----",
                               "clear event",
                               "start 4",
                               "set event",
                               "True",
                               "end 4",
                               "----",
                               "start 5",
                               "----",
                               "start 6",
                               "----",
                               "set event",
                               "----",
                               "TimeoutError",
                               "set event",
                           }));
}

}  // namespace asyncio_event_test
