// Ports of CPython's Lib/test/test_asyncio/test_timeouts.py (behaviour, not code), one TEST per
// upstream test, named after it. `async with timeout(d): body` is `co_await timeout(d, body())`.
// A task cancelling itself (allowed in CPython, RuntimeError here) is done by a helper task.
// Not ported: reschedule(), when(), expired(), repr() and entering twice (our timeout is not an
// object the caller holds), __cause__ (no exception chaining in C++), test_timeout_without_task
// (every coroutine here runs in a task).
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include "support/test_loop.hpp"

using namespace asyncio;
using namespace std::chrono_literals;
using CPythonTimeouts = asyncio::testing::LoopTest;

namespace {

/// Cancels `victim` once it has suspended (the port of `current_task().cancel()`).
Coro<> cancel_soon(Task<> victim) {
    co_await sleep(0);
    victim.cancel();
}

}  // namespace

TEST_F(CPythonTimeouts, test_timeout_basic) {
    auto main = []() -> Coro<> { EXPECT_THROW(co_await timeout(0.001, sleep(10)), TimeoutError); };
    run(main());
}

TEST_F(CPythonTimeouts, test_timeout_at_basic) {
    auto main = []() -> Coro<> {
        double deadline = get_event_loop().time() + 0.001;
        EXPECT_THROW(co_await timeout_at(deadline, sleep(10)), TimeoutError);
        EXPECT_GE(get_event_loop().time(), deadline);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_nested_timeouts) {
    auto main = []() -> Coro<> {
        bool cancelled = false;
        double deadline = get_event_loop().time() + 0.001;
        auto inner = [](double when, bool* c) -> Coro<> {
            try {
                co_await timeout_at(when, sleep(10));  // only the topmost raises TimeoutError
            } catch (const CancelledError&) {
                *c = true;
                throw;
            }
        };
        EXPECT_THROW(co_await timeout_at(deadline, inner(deadline, &cancelled)), TimeoutError);
        EXPECT_TRUE(cancelled);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_waiter_cancelled) {
    auto main = []() -> Coro<> {
        bool cancelled = false;
        auto body = [](bool* c) -> Coro<> {
            try {
                co_await sleep(10);
            } catch (const CancelledError&) {
                *c = true;
                throw;
            }
        };
        EXPECT_THROW(co_await timeout(0.001, body(&cancelled)), TimeoutError);
        EXPECT_TRUE(cancelled);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_timeout_not_called) {
    auto main = []() -> Coro<> {
        Loop& loop = get_event_loop();
        double t0 = loop.time();
        co_await timeout(10, sleep(0.001));
        EXPECT_LT(loop.time(), t0 + 10);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_timeout_disabled) {
    auto main = []() -> Coro<> { co_await timeout(std::nullopt, sleep(0.001)); };
    run(main());
}

TEST_F(CPythonTimeouts, test_timeout_at_disabled) {
    auto main = []() -> Coro<> { co_await timeout_at(std::nullopt, sleep(0.001)); };
    run(main());
}

TEST_F(CPythonTimeouts, test_timeout_zero) {
    auto main = []() -> Coro<> {
        Loop& loop = get_event_loop();
        double t0 = loop.time();
        EXPECT_THROW(co_await timeout(0, sleep(10)), TimeoutError);
        EXPECT_LT(loop.time() - t0, 5.0);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_timeout_zero_sleep_zero) {
    auto main = []() -> Coro<> { EXPECT_THROW(co_await timeout(0, sleep(0)), TimeoutError); };
    run(main());
}

TEST_F(CPythonTimeouts, test_timeout_in_the_past_sleep_zero) {
    auto main = []() -> Coro<> { EXPECT_THROW(co_await timeout(-11, sleep(0)), TimeoutError); };
    run(main());
}

TEST_F(CPythonTimeouts, test_foreign_exception_passed) {
    auto main = []() -> Coro<> {
        auto body = []() -> Coro<> {
            throw std::out_of_range("KeyError");
            co_return;
        };
        EXPECT_THROW(co_await timeout(0.01, body()), std::out_of_range);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_foreign_exception_on_timeout) {
    auto main = []() -> Coro<> {
        auto crash = []() -> Coro<> {
            try {
                co_await sleep(1);
            } catch (...) {
            }
            throw std::domain_error("division by zero");  // Python's `finally: 1/0`
        };
        EXPECT_THROW(co_await timeout(0.001, crash()), std::domain_error);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_foreign_cancel_doesnt_timeout_if_not_expired) {
    auto main = []() -> Coro<> {
        Task<> c = create_task(cancel_soon(current_task()));
        EXPECT_THROW(co_await timeout(10, sleep(10)), CancelledError);
        co_await c;
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_outer_task_is_not_cancelled) {
    auto main = []() -> Coro<> {
        auto outer = []() -> Coro<> { EXPECT_THROW(co_await timeout(0.001, sleep(10)), TimeoutError); };
        Task<> task = create_task(outer());
        co_await task;  // would throw CancelledError if the task had ended cancelled
        EXPECT_TRUE(task.done());
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_nested_timeouts_concurrent) {
    auto main = []() -> Coro<> {
        auto inner = []() -> Coro<> {
            std::this_thread::sleep_for(10ms);  // pretend to crunch numbers: the outer expires
            co_await sleep(1);
        };
        auto middle = [](decltype(inner) i) -> Coro<> { co_await timeout(0.1, i()); };
        EXPECT_THROW(co_await timeout(0.002, middle(inner)), TimeoutError);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_nested_timeouts_loop_busy) {
    // The loop is busy past both deadlines: the outer one reports, and the whole thing ends
    // long before the sleeps would.
    auto main = []() -> Coro<> {
        Loop& loop = get_event_loop();
        double t0 = loop.time();
        auto body = []() -> Coro<> {
            auto inner = []() -> Coro<> {
                std::this_thread::sleep_for(25ms);  // busy for a while
                co_await sleep(1);
            };
            try {
                co_await timeout(0.01, inner());
            } catch (const TimeoutError&) {
            }
            co_await sleep(10);  // interrupted by the outer timeout
        };
        EXPECT_THROW(co_await timeout(0.02, body()), TimeoutError);
        double t1 = loop.time();
        EXPECT_LE(t0, t1);
        EXPECT_LE(t1, t0 + 1);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_nested_timeout_in_finally) {
    auto main = []() -> Coro<> {
        auto body = []() -> Coro<> {
            try {
                co_await sleep(1);
            } catch (const CancelledError&) {
                // Python's `finally:` runs the inner timeout while unwinding; C++ cannot
                // co_await in a handler, so it runs right after, then re-raises.
            }
            EXPECT_THROW(co_await timeout(0.001, sleep(10)), TimeoutError);
            throw CancelledError{};
        };
        EXPECT_THROW(co_await timeout(0.001, body()), TimeoutError);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_timeout_after_cancellation) {
    auto main = []() -> Coro<> {
        Task<> c = create_task(cancel_soon(current_task()));
        try {
            co_await sleep(1);  // work which will be cancelled
        } catch (const CancelledError&) {
        }
        co_await c;
        // The cancel was caught, not taken back: the timeout still tells its own apart.
        EXPECT_THROW(co_await timeout(0.0, sleep(1)), TimeoutError);
    };
    run(main());
}

TEST_F(CPythonTimeouts, test_cancel_in_timeout_after_cancellation) {
    auto main = []() -> Coro<> {
        Task<> c = create_task(cancel_soon(current_task()));
        try {
            co_await sleep(1);  // work which will be cancelled
        } catch (const CancelledError&) {
        }
        co_await c;
        Task<> c2 = create_task(cancel_soon(current_task()));
        EXPECT_THROW(co_await timeout(1.0, sleep(2)), CancelledError);
        co_await c2;
    };
    run(main());
}
