// Port of micropython tests/extmod/asyncio_gather.py
// Checks: gather gives the results in argument order; an empty gather; with return_exceptions
// a cancelled task contributes CancelledError and a raising task its exception; without it the
// first exception propagates while the other tasks keep running (and both raising gives the
// first); cancelling a task blocked in gather cancels the gathered tasks, also in the edge
// cases where the cancel lands just as they are created or just as they finish.
// Python reprs become plain strings: [2, 6, 24], [CancelledError, 2], ValueError(2,) ->
// "ValueError 2".
#include <asyncio/asyncio.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_gather_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioGather = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

class ValueError : public std::runtime_error {
public:
    explicit ValueError(int id) : std::runtime_error("ValueError " + std::to_string(id)) {}
};

std::string str(bool b) { return b ? "True" : "False"; }

std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return "CancelledError";
    } catch (const std::exception& ex) {
        return ex.what();
    }
}

std::string describe(const std::variant<int, std::exception_ptr>& v) {
    if (v.index() == 0) return std::to_string(std::get<0>(v));
    return describe(std::get<1>(v));
}

Coro<int> factorial(std::string name, int number, Trace* trace) {
    int f = 1;
    for (int i = 2; i <= number; ++i) {
        (*trace)("Task " + name + ": Compute factorial(" + std::to_string(i) + ")...");
        co_await sleep(0.01);
        f *= i;
    }
    (*trace)("Task " + name + ": factorial(" + std::to_string(number) + ") = " + std::to_string(f));
    co_return f;
}

Coro<int> task(int id, double t, Trace* trace) {
    (*trace)("start " + std::to_string(id));
    co_await sleep(t);
    (*trace)("end " + std::to_string(id));
    co_return id;
}

Coro<> task_loop(int id, Trace* trace) {
    (*trace)("task_loop start " + std::to_string(id));
    for (;;) {
        co_await sleep(0.1);
        (*trace)("task_loop loop " + std::to_string(id));
    }
}

Coro<int> task_raise(int id, double t, Trace* trace) {
    (*trace)("task_raise start " + std::to_string(id));
    co_await sleep(t);
    (*trace)("task_raise raise " + std::to_string(id));
    throw ValueError(id);
    co_return 0;
}

Coro<> gather_task(Coro<int> t0, Coro<int> t1, Trace* trace) {
    (*trace)("gather_task");
    co_await gather(std::move(t0), std::move(t1));
    (*trace)("gather_task2");
}

Coro<> main_task(Trace* trace) {
    // Simple gather with return values
    {
        auto [a, b, c] = co_await gather(factorial("A", 2, trace), factorial("B", 3, trace), factorial("C", 4, trace));
        (*trace)("[" + std::to_string(a) + ", " + std::to_string(b) + ", " + std::to_string(c) + "]");
    }

    (*trace)("====");

    // Gather with no awaitables
    {
        std::tuple<> none = co_await gather();
        (*trace)(std::tuple_size_v<decltype(none)> == 0 ? "[]" : "?");
    }

    (*trace)("====");

    // Test return_exceptions, where one task is cancelled and the other finishes normally
    {
        std::vector<Task<int>> tasks{create_task(task(1, 0.1, trace)), create_task(task(2, 0.1, trace))};
        tasks[0].cancel();
        auto [r0, r1] = co_await gather(return_exceptions, tasks[0], tasks[1]);
        (*trace)("[" + describe(r0) + ", " + describe(r1) + "]");
    }

    (*trace)("====");

    // Test return_exceptions, where one task raises an exception and the other finishes normally.
    {
        std::vector<Task<int>> tasks{create_task(task(1, 0.1, trace)), create_task(task_raise(2, 0.1, trace))};
        auto [r0, r1] = co_await gather(return_exceptions, tasks[0], tasks[1]);
        (*trace)("[" + describe(r0) + ", " + describe(r1) + "]");
    }

    (*trace)("====");

    // Test case where one task raises an exception and other task keeps running.
    {
        Task<> t0 = create_task(task_loop(1, trace));
        Task<int> t1 = create_task(task_raise(2, 0.1, trace));
        try {
            co_await gather(t0, t1);
        } catch (const ValueError& er) {
            (*trace)(er.what());
        }
        (*trace)(str(t0.done()) + " " + str(t1.done()));
        t0.cancel();
        t1.cancel();
        co_await sleep(0.2);
    }

    (*trace)("====");

    // Test case where both tasks raise an exception.
    // Use t=0 so they raise one after the other, between the gather starting and finishing.
    {
        Task<int> t0 = create_task(task_raise(1, 0, trace));
        Task<int> t1 = create_task(task_raise(2, 0, trace));
        try {
            co_await gather(t0, t1);
        } catch (const ValueError& er) {
            (*trace)(er.what());
        }
        (*trace)(str(t0.done()) + " " + str(t1.done()));
    }

    (*trace)("====");

    // Cancel a multi gather.
    Task<> t = create_task(gather_task(task(1, 0.1, trace), task(2, 0.1, trace), trace));
    co_await sleep(0.05);
    t.cancel();
    co_await sleep(0.2);

    // Test edge cases where the gather is cancelled just as tasks are created and ending.
    for (int i = 1; i < 4; ++i) {
        (*trace)("====");
        t = create_task(gather_task(task(1, 0, trace), task(2, 0, trace), trace));
        for (int j = 0; j < i; ++j) co_await sleep(0);
        t.cancel();
        co_await sleep(0.2);
    }
}

// A failure the loop reports (a task exception nobody retrieved) would show up here.
void record_unretrieved(Loop&, const ExceptionContext& context) {
    ADD_FAILURE() << "unexpected report: " << context.message << ": " << describe(context.exception);
}

}  // namespace

TEST_F(AsyncioGather, GatherCollectsResultsInOrderPropagatesTheFirstErrorAndCancelsItsTasks) {
    get_event_loop().set_exception_handler(record_unretrieved);
    Trace trace;
    run(main_task(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "Task A: Compute factorial(2)...",
                               "Task B: Compute factorial(2)...",
                               "Task C: Compute factorial(2)...",
                               "Task A: factorial(2) = 2",
                               "Task B: Compute factorial(3)...",
                               "Task C: Compute factorial(3)...",
                               "Task B: factorial(3) = 6",
                               "Task C: Compute factorial(4)...",
                               "Task C: factorial(4) = 24",
                               "[2, 6, 24]",
                               "====",
                               "[]",
                               "====",
                               "start 2",
                               "end 2",
                               "[CancelledError, 2]",
                               "====",
                               "start 1",
                               "task_raise start 2",
                               "end 1",
                               "task_raise raise 2",
                               "[1, ValueError 2]",
                               "====",
                               "task_loop start 1",
                               "task_raise start 2",
                               "task_loop loop 1",
                               "task_raise raise 2",
                               "ValueError 2",
                               "False True",
                               "====",
                               "task_raise start 1",
                               "task_raise start 2",
                               "task_raise raise 1",
                               "task_raise raise 2",
                               "ValueError 1",
                               "True True",
                               "====",
                               "gather_task",
                               "start 1",
                               "start 2",
                               "====",
                               "gather_task",
                               "start 1",
                               "start 2",
                               "====",
                               "gather_task",
                               "start 1",
                               "start 2",
                               "end 1",
                               "end 2",
                               "====",
                               "gather_task",
                               "start 1",
                               "start 2",
                               "end 1",
                               "end 2",
                           }));
}

}  // namespace asyncio_gather_test
