// Loop::set_virtual_time and Loop::time(): the clock jumps to the next deadline when nothing
// else can happen, never goes back, and does not jump over I/O that is already pending.
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using VirtualTime = asyncio::testing::VirtualTimeTest;
using LoopTime = asyncio::testing::LoopTest;

namespace {

double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Coro<> sleep_and_log(double seconds, std::string name, std::vector<std::string>* log) {
    co_await sleep(seconds);
    log->push_back(name);
}

Coro<> write_hello_after(Event* go, Stream, Stream writer) {
    co_await go->wait();
    writer.write("hello\n");
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

}  // namespace

TEST_F(LoopTime, TimeIsMonotonicSecondsAndCoversASleep) {
    Loop& loop = get_event_loop();
    EXPECT_FALSE(loop.virtual_time());
    std::vector<std::string> log;
    double t0 = loop.time();
    run(sleep_and_log(0.02, "x", &log));
    EXPECT_GE(loop.time() - t0, 0.02);
    EXPECT_EQ(log, std::vector<std::string>{"x"});
}

TEST_F(VirtualTime, AnHourOfSleepTakesNoWallTime) {
    Loop& loop = get_event_loop();
    double wall0 = wall_seconds();
    double t0 = loop.time();
    auto main = []() -> Coro<> { co_await sleep(3600); };
    run(main());
    EXPECT_GE(loop.time() - t0, 3600.0);
    EXPECT_LT(loop.time() - t0, 3601.0);
    EXPECT_LT(wall_seconds() - wall0, 1.0);
}

TEST_F(VirtualTime, SleepersWakeInDeadlineOrderEachAtItsDeadline) {
    Loop& loop = get_event_loop();
    std::vector<std::string> log;
    std::vector<double> at;
    auto sleeper = [](double s, std::string name, std::vector<std::string>* l, std::vector<double>* a) -> Coro<> {
        co_await sleep(s);
        l->push_back(name);
        a->push_back(get_event_loop().time());
    };
    double t0 = loop.time();
    auto main = [&]() -> Coro<> {
        Task<> c = create_task(sleeper(30, "c", &log, &at));
        Task<> a = create_task(sleeper(10, "a", &log, &at));
        Task<> b = create_task(sleeper(20, "b", &log, &at));
        co_await gather(a, b, c);
    };
    run(main());
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
    ASSERT_EQ(at.size(), 3u);
    EXPECT_NEAR(at[0] - t0, 10.0, 0.5);
    EXPECT_NEAR(at[1] - t0, 20.0, 0.5);
    EXPECT_NEAR(at[2] - t0, 30.0, 0.5);
}

TEST_F(VirtualTime, WaitForTimesOutWithoutWaiting) {
    double wall0 = wall_seconds();
    auto main = []() -> Coro<bool> {
        Event never;
        try {
            co_await wait_for(never.wait(), 600.0);
        } catch (const TimeoutError&) {
            co_return true;
        }
        co_return false;
    };
    EXPECT_TRUE(run(main()));
    EXPECT_LT(wall_seconds() - wall0, 1.0);
}

TEST_F(VirtualTime, TurningItOffKeepsTheClockFromGoingBack) {
    Loop& loop = get_event_loop();
    auto nap = [](double s) -> Coro<> { co_await sleep(s); };
    run(nap(100));
    double virtual_now = loop.time();
    loop.set_virtual_time(false);
    EXPECT_FALSE(loop.virtual_time());
    EXPECT_GE(loop.time(), virtual_now);
    double wall0 = wall_seconds();
    run(nap(0.01));  // real time again: this one is waited for
    EXPECT_GE(wall_seconds() - wall0, 0.01);
    EXPECT_GE(loop.time(), virtual_now + 0.01);
}

TEST_F(VirtualTime, NewEventLoopSwitchesItOffAndKeepsTheClock) {
    Loop& loop = get_event_loop();
    auto nap = [](double s) -> Coro<> { co_await sleep(s); };
    run(nap(50));
    double t = loop.time();
    EXPECT_EQ(&new_event_loop(), &loop);
    EXPECT_FALSE(loop.virtual_time());
    EXPECT_GE(loop.time(), t);
    loop.set_virtual_time(true);  // for the fixture's own tear-down
}

TEST_F(VirtualTime, DataAlreadyReadableIsReadBeforeTheClockJumps) {
    // The client waits for a line with a 10 s timeout; only then does the server write it
    // and finish, leaving nothing runnable. The poller is polled before every jump, so the
    // line is seen and the timeout never fires.
    auto main = []() -> Coro<std::string> {
        Event go;
        Event* g = &go;
        Server server = co_await start_server([g](Stream r, Stream w) { return write_hello_after(g, r, w); },
                                              "127.0.0.1", 0);
        auto [reader, writer] = co_await open_connection("127.0.0.1", server.port());
        Task<std::string> line = create_task(wait_for(reader.readline(), 10.0));
        for (int i = 0; i < 5; ++i) co_await sleep(0);  // the read is parked on the socket
        EXPECT_FALSE(line.done());
        go.set();
        std::string got = co_await line;
        writer.close();
        co_await writer.wait_closed();
        server.close();
        co_await server.wait_closed();
        co_return got;
    };
    EXPECT_EQ(run(main()), "hello\n");
}

TEST_F(VirtualTime, ASleepForeverIsNotJumpedTo) {
    // A saturated "forever" deadline stays forever: the loop keeps serving real events.
    auto main = []() -> Coro<> {
        Task<> forever = create_task([]() -> Coro<> { co_await sleep(1e300); }());
        co_await sleep(1);
        EXPECT_FALSE(forever.done());
        forever.cancel();
        co_await sleep(0);
        EXPECT_TRUE(forever.cancelled());
    };
    run(main());
}
