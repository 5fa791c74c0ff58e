// Ports of CPython's Lib/test/test_asyncio/test_base_events.py, the callback parts
// (BaseEventLoopTests: call_soon, call_later, call_at, handle cancellation, the run-once
// bookkeeping of timers, callback errors), behaviour not code, named after the upstream tests.
// Upstream inspects loop._ready and loop._scheduled; here detail::timer_count() stands for
// len(loop._scheduled) and running the loop briefly shows what was ready.
// The create_datagram_endpoint argument checks (BaseEventLoopWithSelectorTests) are at the end.
// Not ported: executor, debug-mode and stream socket tests (other features), test_call_soon_non_callable
// (a compile error in C++), the None-delay TypeError checks (same).
#include <asyncio/asyncio.hpp>

#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using CPythonBaseEvents = asyncio::testing::LoopTest;

namespace {

/// test_utils.run_briefly: a few rounds of the loop.
void run_briefly() {
    run([]() -> Coro<> {
        for (int i = 0; i < 3; ++i) co_await sleep(0);
    }());
}

}  // namespace

TEST_F(CPythonBaseEvents, test_close) {
    Loop& loop = get_event_loop();
    EXPECT_FALSE(loop.is_closed());
    loop.close();
    EXPECT_TRUE(loop.is_closed());
    loop.close();  // more than once is fine
    loop.close();
    EXPECT_THROW(loop.run_forever(), RuntimeError);
    EXPECT_THROW(loop.call_soon([] {}), RuntimeError);
}

TEST_F(CPythonBaseEvents, test__add_callback_cancelled_handle) {
    Loop& loop = get_event_loop();
    bool ran = false;
    TimerHandle h = loop.call_soon([&] { ran = true; });
    h.cancel();
    run_briefly();
    EXPECT_FALSE(ran);
    EXPECT_EQ(detail::timer_count(loop), 0u);
}

TEST_F(CPythonBaseEvents, test_call_soon) {
    Loop& loop = get_event_loop();
    bool ran = false;
    TimerHandle h = loop.call_soon([&] { ran = true; });
    EXPECT_TRUE(h);
    EXPECT_EQ(detail::timer_count(loop), 0u);  // ready, not scheduled
    run_briefly();
    EXPECT_TRUE(ran);
}

TEST_F(CPythonBaseEvents, test_call_later) {
    Loop& loop = get_event_loop();
    TimerHandle h = loop.call_later(10.0, [] {});
    EXPECT_TRUE(h);
    EXPECT_EQ(detail::timer_count(loop), 1u);  // in _scheduled, not in _ready
    h.cancel();
}

TEST_F(CPythonBaseEvents, test_call_later_negative_delays) {
    Loop& loop = get_event_loop();
    Lines calls;
    loop.call_later(-1, [&] { calls.push_back("a"); });
    loop.call_later(-2, [&] { calls.push_back("b"); });
    run_briefly();
    EXPECT_EQ(calls, (Lines{"b", "a"}));
}

TEST_F(CPythonBaseEvents, test_time_and_call_at) {
    Loop& loop = get_event_loop();
    constexpr double delay = 0.1;
    double when = loop.time() + delay;
    loop.call_at(when, [&] { loop.stop(); });
    double t0 = loop.time();
    loop.run_forever();
    double dt = loop.time() - t0;
    EXPECT_GE(dt, delay - 0.001);  // never early (the upstream test allows its clock resolution)
}

TEST_F(CPythonBaseEvents, test_check_thread) {
    // Upstream raises only in debug mode; here call_soon/call_later/call_at always refuse a
    // thread that is not the loop's, and call_soon_threadsafe is the way in.
    Loop& loop = get_event_loop();
    std::vector<std::string> errors;
    bool threadsafe_ran = false;
    std::thread other([&] {
        for (int i = 0; i < 3; ++i) {
            try {
                if (i == 0) loop.call_soon([] {});
                if (i == 1) loop.call_later(60, [] {});
                if (i == 2) loop.call_at(loop.time() + 60, [] {});
            } catch (const RuntimeError& e) {
                errors.push_back(e.what());
            }
        }
        loop.call_soon_threadsafe([&] { threadsafe_ran = true; });
    });
    other.join();
    run_briefly();
    const std::string msg = "Non-thread-safe operation invoked on an event loop other than the current one";
    EXPECT_EQ(errors, (std::vector<std::string>{msg, msg, msg}));
    EXPECT_TRUE(threadsafe_ran);
}

TEST_F(CPythonBaseEvents, test__run_once) {
    // A cancelled timer leaves the heap; the loop then sleeps until the one that remains.
    Loop& loop = get_event_loop();
    TimerHandle h1 = loop.call_later(5.0, [] {});
    TimerHandle h2 = loop.call_later(10.0, [] {});
    h1.cancel();
    EXPECT_EQ(detail::timer_count(loop), 1u);
    run_briefly();
    EXPECT_EQ(detail::timer_count(loop), 1u);
    h2.cancel();
    EXPECT_EQ(detail::timer_count(loop), 0u);
}

TEST_F(CPythonBaseEvents, test__run_once_schedule_handle) {
    // A due timer's callback that calls call_soon: the new handle is ready after it ran.
    Loop& loop = get_event_loop();
    Lines out;
    loop.call_at(loop.time() - 1, [&] {
        out.push_back("timer");
        loop.call_soon([&] { out.push_back("scheduled by the timer"); });
    });
    run_briefly();
    EXPECT_EQ(out, (Lines{"timer", "scheduled by the timer"}));
}

TEST_F(CPythonBaseEvents, test__run_once_cancelled_event_cleanup) {
    // Upstream removes cancelled timers lazily past a threshold; here each leaves at once, so
    // the heap always holds exactly the live timers.
    Loop& loop = get_event_loop();
    TimerHandle blocking = loop.call_later(3000, [] {});
    for (int i = 0; i < 2; ++i) loop.call_later(3600, [] {}).cancel();
    for (int i = 0; i < 2; ++i) loop.call_later(100, [] {}).cancel();
    EXPECT_EQ(detail::timer_count(loop), 1u);
    std::vector<TimerHandle> many;
    for (int i = 0; i < 200; ++i) many.push_back(loop.call_later(3600, [] {}));
    for (int i = 0; i < 150; ++i) many[i].cancel();
    EXPECT_EQ(detail::timer_count(loop), 51u);
    run_briefly();
    EXPECT_EQ(detail::timer_count(loop), 51u);
    blocking.cancel();
    for (auto& h : many) h.cancel();
    EXPECT_EQ(detail::timer_count(loop), 0u);
}

TEST_F(CPythonBaseEvents, test_default_exc_handler_callback) {
    Loop& loop = get_event_loop();
    std::vector<std::string> seen;
    loop.set_exception_handler([&](Loop&, const ExceptionContext& c) {
        try {
            std::rethrow_exception(c.exception);
        } catch (const std::domain_error& e) {
            seen.push_back(c.message + " / " + e.what());
        }
    });
    loop.call_soon([] { throw std::domain_error("division by zero"); });
    run_briefly();
    EXPECT_EQ(seen, (std::vector<std::string>{"Exception in callback / division by zero"}));
}

TEST_F(CPythonBaseEvents, test_set_exc_handler_broken) {
    // A handler that itself throws: the error leaves run() (ours; CPython logs it instead).
    Loop& loop = get_event_loop();
    loop.set_exception_handler([](Loop&, const ExceptionContext&) { throw std::logic_error("broken handler"); });
    loop.call_soon([] { throw std::domain_error("x"); });
    EXPECT_THROW(run_briefly(), std::logic_error);
    loop.set_exception_handler(nullptr);
}

// ---- create_datagram_endpoint (BaseEventLoopWithSelectorTests) ----

TEST_F(CPythonBaseEvents, test_create_datagram_endpoint_noaddr_nofamily) {
    auto main = []() -> Coro<bool> {
        try {
            (void)co_await create_datagram_endpoint(std::nullopt, std::nullopt);
        } catch (const std::invalid_argument&) {
            co_return true;
        }
        co_return false;
    };
    EXPECT_TRUE(run(main()));
}

TEST_F(CPythonBaseEvents, test_create_datagram_endpoint_no_matching_family) {
    // An IPv4 remote with an IPv6 local address: no (family, protocol) pair fits both, which
    // CPython reports as ValueError before any socket is made.
    const int fds = asyncio::testing::open_fd_count();
    auto main = []() -> Coro<bool> {
        const Address remote{"127.0.0.1", 9};
        const Address local{"::1", 0};
        try {
            (void)co_await create_datagram_endpoint(local, remote);
        } catch (const std::invalid_argument&) {
            co_return true;
        }
        co_return false;
    };
    EXPECT_TRUE(run(main()));
    EXPECT_EQ(asyncio::testing::open_fd_count(), fds);
}

TEST_F(CPythonBaseEvents, test_create_datagram_endpoint_cant_bind) {
    // bind() fails (an address of no interface here, from TEST-NET-1): the error names it and
    // the socket is closed (upstream: m_sock.close.called).
    const int fds = asyncio::testing::open_fd_count();
    auto main = []() -> Coro<int> {
        const Address local{"192.0.2.1", 0};
        try {
            (void)co_await create_datagram_endpoint(local, std::nullopt);
        } catch (const std::system_error& e) {
            EXPECT_NE(std::string(e.what()).find("192.0.2.1"), std::string::npos) << e.what();
            co_return e.code().value();
        }
        co_return 0;
    };
    EXPECT_EQ(run(main()), EADDRNOTAVAIL);
    EXPECT_EQ(asyncio::testing::open_fd_count(), fds);
}
