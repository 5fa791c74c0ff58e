// Port of micropython tests/extmod/asyncio_basic.py
// Checks: sleep() suspends the awaiting coroutine for (at least) the requested time, awaiting a
// coroutine runs it inline, and a negative sleep only yields (takes no time).
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_basic_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioBasic = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

using Clock = asyncio::testing::LoopClock;  // the loop's (virtual) clock
using std::chrono::milliseconds;

struct Durations {
    Clock::duration short_sleep{};
    Clock::duration long_sleep{};
    Clock::duration negative_sleep{};
};

Coro<> delay_print(double t, std::string s, Trace* trace) {
    co_await sleep(t);
    (*trace)(std::move(s));
}

Coro<> main_task(Trace* trace, Durations* took) {
    (*trace)("start");

    co_await sleep(0.001);
    (*trace)("after sleep");

    auto t0 = Clock::now();
    co_await delay_print(0.2, "short", trace);
    auto t1 = Clock::now();
    co_await delay_print(0.4, "long", trace);
    auto t2 = Clock::now();
    co_await delay_print(-1, "negative", trace);
    auto t3 = Clock::now();

    // Upstream prints "took 200 400 0" (durations rounded to 100 ms); checked with bounds below.
    took->short_sleep = t1 - t0;
    took->long_sleep = t2 - t1;
    took->negative_sleep = t3 - t2;
}

}  // namespace

TEST_F(AsyncioBasic, SleepsLastAtLeastTheirLengthAndANegativeSleepOnlyYields) {
    Trace trace;
    Durations took;
    run(main_task(&trace, &took));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "start",
                               "after sleep",
                               "short",
                               "long",
                               "negative",
                           }));
    // Generous upper margins: a loaded 2-core machine, AddressSanitizer.
    EXPECT_GE(took.short_sleep, milliseconds(200));
    EXPECT_LT(took.short_sleep, milliseconds(200 + 150));
    EXPECT_GE(took.long_sleep, milliseconds(400));
    EXPECT_LT(took.long_sleep, milliseconds(400 + 150));
    EXPECT_LT(took.negative_sleep, milliseconds(150));
}

}  // namespace asyncio_basic_test
