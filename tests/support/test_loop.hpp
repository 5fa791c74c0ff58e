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
    void SetUp() override {
        Loop& loop = new_event_loop();
        loop.set_exception_handler(nullptr);
    }
    void TearDown() override {
        Loop& loop = get_event_loop();
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
