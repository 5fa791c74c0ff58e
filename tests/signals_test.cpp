// Loop::add_signal_handler / remove_signal_handler: real signals (raise, kill, pthread_kill
// from other threads), delivered to whichever thread the kernel picks, reach the loop that
// registered them; dispositions are restored; no fd is added.
#include <asyncio/asyncio.hpp>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::testing::open_fd_count;
using Signals = asyncio::testing::LoopTest;

namespace {

/// The signal's current disposition: SIG_DFL, SIG_IGN or a handler.
void (*disposition(int sig))(int) {
    struct sigaction sa {};
    ::sigaction(sig, nullptr, &sa);
    return sa.sa_handler;
}

/// Runs the loop until `*flag` becomes true (the handler sets it), at most ~5 s.
void run_until(const bool* flag) {
    run([](const bool* f) -> Coro<> {
        for (int i = 0; i < 5000 && !*f; ++i) co_await sleep_ms(1);
    }(flag));
}

}  // namespace

TEST_F(Signals, HandlerRunsOnTheLoopsThreadAfterRaise) {
    Loop& loop = get_event_loop();
    bool got = false;
    std::thread::id ran_on;
    loop.add_signal_handler(SIGUSR1, [&] {
        got = true;
        ran_on = std::this_thread::get_id();
    });
    ::raise(SIGUSR1);
    EXPECT_FALSE(got);  // not inside the signal handler: as a callback, later
    run_until(&got);
    EXPECT_TRUE(got);
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
}

TEST_F(Signals, ASignalDeliveredToAThreadStartedBeforeTheHandlerReachesTheLoop) {
    Loop& loop = get_event_loop();
    std::promise<void> go;
    std::shared_future<void> go_f = go.get_future().share();
    // This thread exists before the handler does, and does not block the signal.
    std::thread other([go_f] {
        go_f.wait();
        ::pthread_kill(::pthread_self(), SIGUSR2);  // delivered on this very thread
    });
    bool got = false;
    loop.add_signal_handler(SIGUSR2, [&] { got = true; });
    go.set_value();
    run_until(&got);
    other.join();
    EXPECT_TRUE(got);
    loop.remove_signal_handler(SIGUSR2);
}

TEST_F(Signals, AProcessDirectedSignalFromAnotherThreadWakesAnIdleLoop) {
    Loop& loop = get_event_loop();
    loop.add_signal_handler(SIGTERM, [&] { loop.stop(); });
    std::thread other([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ::kill(::getpid(), SIGTERM);
    });
    loop.run_forever();  // nothing scheduled: only the signal can end this
    other.join();
    loop.remove_signal_handler(SIGTERM);
}

TEST_F(Signals, TwoLoopsOnTwoThreadsEachGetTheSignalTheyRegistered) {
    std::promise<void> b_ready;
    std::atomic<bool> b_got_usr2{false};
    std::atomic<bool> b_got_usr1{false};
    std::atomic<bool> b_saw_conflict{false};
    std::promise<void> a_ready;
    std::shared_future<void> a_ready_f = a_ready.get_future().share();
    std::thread b([&] {
        Loop& lb = get_event_loop();
        a_ready_f.wait();  // loop A has SIGUSR1 by now
        try {
            lb.add_signal_handler(SIGUSR1, [] {});
        } catch (const RuntimeError&) {
            b_saw_conflict = true;
        }
        lb.add_signal_handler(SIGUSR2, [&] { b_got_usr2 = true; });
        b_ready.set_value();
        run([](std::atomic<bool>* got) -> Coro<> {
            for (int i = 0; i < 5000 && !got->load(); ++i) co_await sleep_ms(1);
        }(&b_got_usr2));
        lb.close();  // removes its handler
    });
    Loop& la = get_event_loop();
    bool a_got_usr1 = false;
    bool a_got_usr2 = false;
    la.add_signal_handler(SIGUSR1, [&] { a_got_usr1 = true; });
    a_ready.set_value();
    b_ready.get_future().wait();
    ::kill(::getpid(), SIGUSR1);  // process-directed: any thread may take them
    ::kill(::getpid(), SIGUSR2);
    run_until(&a_got_usr1);
    b.join();
    EXPECT_TRUE(a_got_usr1);
    EXPECT_FALSE(a_got_usr2);
    EXPECT_TRUE(b_got_usr2.load());
    EXPECT_FALSE(b_got_usr1.load());
    EXPECT_TRUE(b_saw_conflict.load());
    EXPECT_EQ(disposition(SIGUSR2), SIG_DFL);  // loop B's close restored it
    la.remove_signal_handler(SIGUSR1);
}

TEST_F(Signals, RemoveRestoresTheDefaultDispositionAndReportsWhetherThereWasAHandler) {
    Loop& loop = get_event_loop();
    EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
    loop.add_signal_handler(SIGUSR1, [] {});
    EXPECT_NE(disposition(SIGUSR1), SIG_DFL);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
    EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
}

TEST_F(Signals, ReplacingAHandlerRunsOnlyTheNewOne) {
    Loop& loop = get_event_loop();
    std::vector<std::string> out;
    bool done = false;
    loop.add_signal_handler(SIGUSR1, [&] { out.push_back("old"); });
    loop.add_signal_handler(SIGUSR1, [&] {
        out.push_back("new");
        done = true;
    });
    ::raise(SIGUSR1);
    run_until(&done);
    EXPECT_EQ(out, (std::vector<std::string>{"new"}));
    loop.remove_signal_handler(SIGUSR1);
}

TEST_F(Signals, SignalsThatCannotBeCaughtRaiseRuntimeError) {
    Loop& loop = get_event_loop();
    for (int sig : {SIGKILL, SIGSTOP}) {
        try {
            loop.add_signal_handler(sig, [] {});
            ADD_FAILURE() << "no exception for signal " << sig;
        } catch (const RuntimeError& e) {
            EXPECT_EQ(std::string(e.what()), "sig " + std::to_string(sig) + " cannot be caught");
        }
    }
}

TEST_F(Signals, NumbersOutOfRangeRaiseInvalidArgument) {
    Loop& loop = get_event_loop();
    for (int sig : {0, -1, NSIG, 1000}) {
        EXPECT_THROW(loop.add_signal_handler(sig, [] {}), std::invalid_argument) << sig;
        EXPECT_THROW(loop.remove_signal_handler(sig), std::invalid_argument) << sig;
    }
    try {
        loop.add_signal_handler(NSIG, [] {});
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "sig " + std::to_string(NSIG) + " out of range(1, " + std::to_string(NSIG) + ")");
    }
}

TEST_F(Signals, CloseRemovesEveryHandlerAndRestoresTheDispositions) {
    Loop& loop = get_event_loop();
    loop.add_signal_handler(SIGUSR1, [] {});
    loop.add_signal_handler(SIGUSR2, [] {});
    loop.close();
    EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
    EXPECT_EQ(disposition(SIGUSR2), SIG_DFL);
    EXPECT_THROW(loop.add_signal_handler(SIGUSR1, [] {}), RuntimeError);  // closed
}

TEST_F(Signals, AnExceptionFromTheHandlerGoesToTheExceptionHandler) {
    Loop& loop = get_event_loop();
    std::string reported;
    loop.set_exception_handler([&](Loop&, const ExceptionContext& c) {
        try {
            std::rethrow_exception(c.exception);
        } catch (const std::exception& e) {
            reported = c.message + ": " + e.what();
        }
    });
    loop.add_signal_handler(SIGUSR1, [] { throw std::runtime_error("handler failed"); });
    ::raise(SIGUSR1);
    run([]() -> Coro<> {
        for (int i = 0; i < 3; ++i) co_await sleep_ms(1);
    }());
    EXPECT_EQ(reported, "Exception in callback: handler failed");
    loop.remove_signal_handler(SIGUSR1);
}

TEST_F(Signals, SeveralDeliveriesBeforeTheLoopRunsAreMergedIntoOneCall) {
    Loop& loop = get_event_loop();
    int calls = 0;
    loop.add_signal_handler(SIGUSR1, [&] { ++calls; });
    for (int i = 0; i < 3; ++i) ::raise(SIGUSR1);
    run([]() -> Coro<> {
        for (int i = 0; i < 3; ++i) co_await sleep_ms(1);
    }());
    EXPECT_EQ(calls, 1);
    ::raise(SIGUSR1);  // a later delivery is a new call
    run([]() -> Coro<> {
        for (int i = 0; i < 3; ++i) co_await sleep_ms(1);
    }());
    EXPECT_EQ(calls, 2);
    loop.remove_signal_handler(SIGUSR1);
}

TEST_F(Signals, HandlersOpenNoFileDescriptor) {
    Loop& loop = get_event_loop();
    int before = open_fd_count();
    loop.add_signal_handler(SIGUSR1, [] {});
    loop.add_signal_handler(SIGHUP, [] {});
    EXPECT_EQ(open_fd_count(), before);
    loop.remove_signal_handler(SIGUSR1);
    loop.remove_signal_handler(SIGHUP);
    EXPECT_EQ(open_fd_count(), before);
}

TEST_F(Signals, AHandlerMayStartATask) {
    Loop& loop = get_event_loop();
    bool task_ran = false;
    loop.add_signal_handler(SIGUSR1, [&] {
        create_task([](bool* r) -> Coro<> {
            co_await sleep(0);
            *r = true;
        }(&task_ran));
    });
    ::raise(SIGUSR1);
    run_until(&task_ran);
    EXPECT_TRUE(task_ran);
    loop.remove_signal_handler(SIGUSR1);
}

TEST_F(Signals, AHailOfSignalsFromSeveralThreadsIsSafe) {
    Loop& loop = get_event_loop();
    int calls = 0;
    loop.add_signal_handler(SIGUSR1, [&] { ++calls; });
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int t = 0; t < 3; ++t) {
        senders.emplace_back([&] {
            for (int i = 0; i < 200 && !stop.load(); ++i) ::kill(::getpid(), SIGUSR1);
        });
    }
    for (auto& s : senders) s.join();
    ::raise(SIGUSR1);
    run([]() -> Coro<> {
        for (int i = 0; i < 5; ++i) co_await sleep_ms(1);
    }());
    EXPECT_GE(calls, 1);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
}
