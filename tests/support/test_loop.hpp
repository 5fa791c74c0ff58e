// Test support: each test gets a fresh loop and must leave it clean.
#pragma once

#include <gtest/gtest.h>

#include <string>
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

/// A trace of events, compared as a whole (the shape of MicroPython's .exp files).
struct Trace {
    std::vector<std::string> lines;
    void operator()(std::string line) { lines.push_back(std::move(line)); }
};

}  // namespace asyncio::testing
