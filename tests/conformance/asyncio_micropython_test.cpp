// Port of micropython tests/extmod/asyncio_micropython.py (the sleep_ms and wait_for_ms parts)
// Checks: sleep_ms(1) returns promptly; a sleep_ms beyond MicroPython's maximum; wait_for_ms
// gives the value when the task finishes in time, and cancels it and raises TimeoutError when
// it does not.
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_micropython_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioMicropython = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

using Clock = asyncio::testing::LoopClock;  // the loop's (virtual) clock
using std::chrono::milliseconds;

std::string str(bool b) { return b ? "True" : "False"; }

Coro<int> task(int id, std::int64_t t, Trace* trace) {
    (*trace)("task start " + std::to_string(id));
    co_await sleep_ms(t);
    (*trace)("task end " + std::to_string(id));
    co_return id * 2;
}

Coro<> main_task(Trace* trace, Clock::duration* slept) {
    // Simple sleep_ms
    auto t0 = Clock::now();
    co_await sleep_ms(1);
    *slept = Clock::now() - t0;
    (*trace)(str(*slept < milliseconds(100)));

    // Sleep 1ms beyond maximum allowed sleep value: upstream, ticks_add(0, -1) // 2 + 1 (2**61
    // on 64-bit unix) raises OverflowError. Here the length saturates to "forever" instead
    // (docs/differences.md, departures, row "sleep lengths too large": OverflowError ->
    // saturate to "forever"), so the sleep is bounded with wait_for_ms to observe that.
    constexpr std::int64_t kBeyondMax = std::int64_t{1} << 61;
    try {
        co_await wait_for_ms(sleep_ms(kBeyondMax), 10);
        (*trace)("woke up");
    } catch (const TimeoutError&) {
        (*trace)("saturated to forever");
    }

    // When task finished before the timeout
    (*trace)(std::to_string(co_await wait_for_ms(task(1, 5, trace), 50)));

    // When timeout passes and task is cancelled
    try {
        (*trace)(std::to_string(co_await wait_for_ms(task(2, 50, trace), 5)));
    } catch (const TimeoutError&) {
        (*trace)("timeout");
    }

    (*trace)("finish");
}

}  // namespace

TEST_F(AsyncioMicropython, SleepMsAndWaitForMsCountInMilliseconds) {
    Trace trace;
    Clock::duration slept{};
    run(main_task(&trace, &slept));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "True",
                               "saturated to forever",  // upstream: "OverflowError" (see above)
                               "task start 1",
                               "task end 1",
                               "2",
                               "task start 2",
                               "timeout",
                               "finish",
                           }));
    EXPECT_GE(slept, milliseconds(1));
    EXPECT_LT(slept, milliseconds(1 + 150));
}

}  // namespace asyncio_micropython_test
