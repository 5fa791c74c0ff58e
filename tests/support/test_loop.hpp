// Test support: each test gets a fresh loop and must leave it clean.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/asyncio.hpp"

namespace asyncio::testing {

/// Resets this thread's loop before the test and checks after it that no task is left alive
/// (libuv's "close the loop and assert it closed cleanly" pattern).
class LoopTest : public ::testing::Test {
protected:
    static Coro<> settle() {
        for (int i = 0; i < 3; ++i) co_await sleep(0);
    }

    void SetUp() override {
        Loop& loop = new_event_loop();
        loop.set_exception_handler(nullptr);
    }
    void TearDown() override {
        Loop& loop = get_event_loop();
        // Let tasks that were just cancelled (e.g. a dropped Server's accept task) finish;
        // anything still sleeping or waiting after that is a leak.
        if (!loop.is_closed() && loop.task_count() > 0) run(settle());
        EXPECT_EQ(loop.task_count(), 0u) << "a task of this test is still alive";
        loop.set_exception_handler(nullptr);
        new_event_loop();
    }
};

/// LoopTest on virtual time (Loop::set_virtual_time): timers fire in deadline order without
/// waiting for them, so a test of sleeps and timeouts runs in microseconds and its timing
/// assertions hold exactly on a loaded machine. Measure with Loop::time(), not a wall clock.
/// Not for tests that wait on another thread with a timer pending (the clock would jump).
class VirtualTimeTest : public LoopTest {
protected:
    void SetUp() override {
        LoopTest::SetUp();
        get_event_loop().set_virtual_time(true);
    }
};

/// A std::chrono clock reading this thread's loop's clock (Loop::time(), virtual jumps
/// included): measures sleeps the same way under real and virtual time.
struct LoopClock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<LoopClock>;
    static constexpr bool is_steady = true;
    static time_point now() {
        return time_point(std::chrono::duration_cast<duration>(std::chrono::duration<double>(get_event_loop().time())));
    }
};

/// Runs `coro` on this thread's loop with virtual time on, then turns it off again.
template <class T>
T run_virtual(Coro<T> coro) {
    Loop& loop = get_event_loop();
    loop.set_virtual_time(true);
    struct Off {
        Loop& loop;
        ~Off() { loop.set_virtual_time(false); }
    } off{loop};
    return loop.run_until_complete(std::move(coro));
}

/// Runs `body` on this thread's loop, failing it with TimeoutError after `ms` milliseconds:
/// a test that would hang (a lost wake-up, a peer that never answers) fails instead.
template <class T>
T run_with_deadline(Coro<T> body, std::int64_t ms) {
    return run(wait_for_ms(std::move(body), ms));
}

/// A trace of events, compared as a whole (the shape of MicroPython's .exp files).
struct Trace {
    std::vector<std::string> lines;
    void operator()(std::string line) { lines.push_back(std::move(line)); }
};

}  // namespace asyncio::testing
