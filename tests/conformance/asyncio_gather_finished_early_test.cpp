// Port of micropython tests/extmod/asyncio_gather_finished_early.py
// Checks: gather over tasks that finished (returned or raised) before the gather started, with
// and without a task that is still running, with and without return_exceptions: the results
// come at once; without return_exceptions the first failure in argument order propagates at
// once while the running task is not done yet. All 8 combinations, each in its own run().
// Python reprs become plain strings: ('complete', [None, None]) -> "complete [None, None]",
// ValueError('intentional exception', 'a') -> "ValueError intentional exception a".
#include <asyncio/asyncio.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_gather_finished_early_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioGatherFinishedEarly = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

class ValueError : public std::runtime_error {
public:
    ValueError(const std::string& message, const std::string& id)
        : std::runtime_error("ValueError " + message + " " + id) {}
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

// CPython and MicroPython differ in when they signal (and print) that a task raised an
// uncaught exception. So define an empty custom_handler() to suppress this output.
void custom_handler(Loop&, const ExceptionContext&) {}

Coro<> task_that_finishes_early(std::string id, Event* event, bool fail, Trace* trace) {
    (*trace)("task_that_finishes_early " + id);
    event->set();
    if (fail) throw ValueError("intentional exception", id);
    co_return;
}

Coro<> task_that_runs(Trace* trace) {
    for (int i = 0; i < 5; ++i) {
        (*trace)("task_that_runs " + std::to_string(i));
        co_await sleep(0);
    }
}

Coro<> main_task(bool start_task_that_runs, bool task_fail, bool return_exceptions_, Trace* trace) {
    (*trace)("== start " + str(start_task_that_runs) + " " + str(task_fail) + " " + str(return_exceptions_));

    // Set exception handler to suppress exception output.
    Loop& loop = get_event_loop();
    loop.set_exception_handler(custom_handler);

    // Create tasks.
    Event event_a;
    Event event_b;
    std::vector<Task<>> tasks;
    if (start_task_that_runs) tasks.push_back(create_task(task_that_runs(trace)));
    tasks.push_back(create_task(task_that_finishes_early("a", &event_a, task_fail, trace)));
    tasks.push_back(create_task(task_that_finishes_early("b", &event_b, task_fail, trace)));

    // Make sure task_that_finishes_early() are both done, before calling gather().
    co_await event_a.wait();
    co_await event_b.wait();

    // Gather the tasks.
    std::string result;
    try {
        if (return_exceptions_) {
            std::vector<gather_outcome_t<void>> outcomes = co_await gather(return_exceptions, tasks);
            result = "complete [";
            for (std::size_t i = 0; i < outcomes.size(); ++i) {
                if (i > 0) result += ", ";
                result += outcomes[i].index() == 0 ? "None" : describe(std::get<1>(outcomes[i]));
            }
            result += "]";
        } else {
            std::vector<std::monostate> values = co_await gather(tasks);
            result = "complete [";
            for (std::size_t i = 0; i < values.size(); ++i) result += i > 0 ? ", None" : "None";
            result += "]";
        }
    } catch (const std::exception& er) {
        result = "exception " + std::string(er.what()) + " " + str(start_task_that_runs && tasks[0].done());
    }

    // Wait for the final task to finish (if it was started).
    if (start_task_that_runs) co_await tasks[0];

    // Print results.
    (*trace)(result);
}

}  // namespace

TEST_F(AsyncioGatherFinishedEarly, GatherOverAlreadyFinishedTasksGivesTheirOutcomesAtOnce) {
    Trace trace;
    // Run the test in the 8 different combinations of its arguments.
    for (int i = 0; i < 8; ++i) run(main_task((i & 4) != 0, (i & 2) != 0, (i & 1) != 0, &trace));

    EXPECT_EQ(trace.lines,
              (std::vector<std::string>{
                  "== start False False False",
                  "task_that_finishes_early a",
                  "task_that_finishes_early b",
                  "complete [None, None]",
                  "== start False False True",
                  "task_that_finishes_early a",
                  "task_that_finishes_early b",
                  "complete [None, None]",
                  "== start False True False",
                  "task_that_finishes_early a",
                  "task_that_finishes_early b",
                  "exception ValueError intentional exception a False",
                  "== start False True True",
                  "task_that_finishes_early a",
                  "task_that_finishes_early b",
                  "complete [ValueError intentional exception a, ValueError intentional exception b]",
                  "== start True False False",
                  "task_that_runs 0",
                  "task_that_finishes_early a",
                  "task_that_finishes_early b",
                  "task_that_runs 1",
                  "task_that_runs 2",
                  "task_that_runs 3",
                  "task_that_runs 4",
                  "complete [None, None, None]",
                  "== start True False True",
                  "task_that_runs 0",
                  "task_that_finishes_early a",
                  "task_that_finishes_early b",
                  "task_that_runs 1",
                  "task_that_runs 2",
                  "task_that_runs 3",
                  "task_that_runs 4",
                  "complete [None, None, None]",
                  "== start True True False",
                  "task_that_runs 0",
                  "task_that_finishes_early a",
                  "task_that_finishes_early b",
                  "task_that_runs 1",
                  "task_that_runs 2",
                  "task_that_runs 3",
                  "task_that_runs 4",
                  "exception ValueError intentional exception a False",
                  "== start True True True",
                  "task_that_runs 0",
                  "task_that_finishes_early a",
                  "task_that_finishes_early b",
                  "task_that_runs 1",
                  "task_that_runs 2",
                  "task_that_runs 3",
                  "task_that_runs 4",
                  "complete [None, ValueError intentional exception a, ValueError intentional exception b]",
              }));
}

}  // namespace asyncio_gather_finished_early_test
