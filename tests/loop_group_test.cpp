// run_on_threads (a loop per thread) and start_server(..., ServerOptions{.reuse_port = true}).
#include <asyncio/asyncio.hpp>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <latch>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

TEST(RunOnThreads, EachIndexRunsOnItsOwnThreadWithItsOwnLoop) {
    constexpr std::size_t n = 4;
    std::mutex mutex;
    std::set<std::size_t> indexes;
    std::set<std::thread::id> threads;
    std::set<asyncio::Loop*> loops;
    std::latch all_running(n);  // every loop is alive at once, so no address can be reused
    asyncio::run_on_threads(n, [&](std::size_t index) -> asyncio::Coro<> {
        co_await asyncio::sleep(0);  // really inside the loop
        {
            std::lock_guard lock(mutex);
            indexes.insert(index);
            threads.insert(std::this_thread::get_id());
            loops.insert(&asyncio::get_event_loop());
        }
        all_running.arrive_and_wait();
    });
    EXPECT_EQ(indexes, (std::set<std::size_t>{0, 1, 2, 3}));
    EXPECT_EQ(threads.size(), n);
    EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);  // never the caller's thread
    EXPECT_EQ(loops.size(), n);
}

TEST(RunOnThreads, AFailureDoesNotCancelTheOthersItIsRethrownAfterAllFinished) {
    std::atomic<bool> failed{false};
    std::atomic<bool> survivor_finished{false};
    auto main = [&](std::size_t index) -> asyncio::Coro<> {
        if (index == 0) {
            failed.store(true);
            throw std::runtime_error("loop 0 failed");
        }
        while (!failed.load()) co_await asyncio::sleep_ms(1);
        for (int round = 0; round < 20; ++round) co_await asyncio::sleep_ms(1);  // not cancelled
        survivor_finished.store(true);
    };
    EXPECT_THROW(asyncio::run_on_threads(2, main), std::runtime_error);
    EXPECT_TRUE(survivor_finished.load());  // joined before the rethrow
}

// Sets a flag when its thread exits: after run_on_threads' worker has recorded the exception.
struct OnThreadExit {
    std::atomic<bool>* flag = nullptr;
    ~OnThreadExit() {
        if (flag) flag->store(true);
    }
};
thread_local OnThreadExit on_thread_exit;

TEST(RunOnThreads, TheFirstExceptionByTimeWins) {
    std::atomic<bool> first_thread_gone{false};
    auto main = [&](std::size_t index) -> asyncio::Coro<> {
        if (index == 1) {
            on_thread_exit.flag = &first_thread_gone;
            throw std::runtime_error("first");
        }
        while (!first_thread_gone.load()) co_await asyncio::sleep_ms(1);
        throw std::logic_error("second");
    };
    try {
        asyncio::run_on_threads(2, main);
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "first");
    }
}

TEST(RunOnThreads, ExceptionCreatingTheCoroutineIsRethrown) {
    EXPECT_THROW(asyncio::run_on_threads(2,
                                         [](std::size_t) -> asyncio::Coro<> {
                                             throw std::out_of_range("no coroutine");
                                         }),
                 std::out_of_range);
}

TEST(RunOnThreads, RejectsZeroThreadsAndAnEmptyMain) {
    EXPECT_THROW(asyncio::run_on_threads(0, [](std::size_t) -> asyncio::Coro<> { co_return; }),
                 std::invalid_argument);
    EXPECT_THROW(asyncio::run_on_threads(1, asyncio::ThreadMain{}), std::invalid_argument);
}

// ---- reuse_port ----

// Answers a connection with the index of the loop that accepted it. A plain coroutine function:
// its parameters live in its frame (a capturing lambda coroutine's would dangle).
asyncio::Coro<> answer(std::size_t index, asyncio::Stream reader, asyncio::Stream writer) {
    (void)reader;
    writer.write(std::to_string(index));
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

asyncio::ConnectionCallback answer_with(std::size_t index) {
    return [index](asyncio::Stream reader, asyncio::Stream writer) {
        return answer(index, std::move(reader), std::move(writer));
    };
}

// Connects `count` times to 127.0.0.1:port and tallies who answered.
asyncio::Coro<std::array<int, 2>> tally(std::uint16_t port, int count) {
    std::array<int, 2> answered{0, 0};
    for (int i = 0; i < count; ++i) {
        auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
        std::string who = co_await reader.read(16);
        writer.close();
        co_await writer.wait_closed();
        if (who == "0") ++answered[0];
        if (who == "1") ++answered[1];
    }
    co_return answered;
}

TEST(ReusePort, WithoutItASecondBindOfThePortFails) {
    asyncio::run([]() -> asyncio::Coro<> {
        asyncio::Server first = co_await asyncio::start_server(answer_with(0), "127.0.0.1", 0);
        EXPECT_THROW(co_await asyncio::start_server(answer_with(1), "127.0.0.1", first.port()),
                     std::system_error);
        first.close();
        co_await first.wait_closed();
    }());
}

TEST(ReusePort, TwoLoopsOnTwoThreadsShareAPortAndBothAccept) {
    constexpr int connections = 64;
    std::atomic<std::uint16_t> port{0};
    std::latch listening(2);
    std::atomic<bool> done{false};
    std::array<std::atomic<int>, 2> accepted{};
    std::array<int, 2> answered{};
    std::thread client([&] {
        listening.wait();
        answered = asyncio::run(tally(port.load(), connections));
        done.store(true);
    });
    asyncio::run_on_threads(2, [&](std::size_t index) -> asyncio::Coro<> {
        asyncio::ServerOptions options{.reuse_port = true};
        asyncio::ConnectionCallback counting = [&accepted, index](asyncio::Stream r, asyncio::Stream w) {
            accepted[index].fetch_add(1);
            return answer(index, std::move(r), std::move(w));
        };
        if (index == 1) {
            while (port.load() == 0) co_await asyncio::sleep_ms(1);  // bind after index 0 chose it
        }
        asyncio::Server server = co_await asyncio::start_server(counting, "127.0.0.1", port.load(), options);
        if (index == 0) port.store(server.port());
        listening.count_down();
        while (!done.load()) co_await asyncio::sleep_ms(1);
        server.close();
        co_await server.wait_closed();
    });
    client.join();
    EXPECT_EQ(answered[0] + answered[1], connections);
    EXPECT_GE(answered[0], 1);  // the kernel hashes the 4-tuple: 64 ports never all land on one
    EXPECT_GE(answered[1], 1);
    EXPECT_EQ(accepted[0].load(), answered[0]);
    EXPECT_EQ(accepted[1].load(), answered[1]);
}

TEST(ReusePort, ALoopWhoseMainThrowsClosesItsSocketAndTheOtherKeepsServing) {
    constexpr int connections = 32;
    std::atomic<std::uint16_t> port{0};
    std::atomic<bool> loop0_gone{false};
    std::atomic<bool> second_listening{false};
    std::array<int, 2> answered{};
    // Set from a destructor that runs after the Server's (declared before it): loop 0's socket
    // is closed by the time the flag is up.
    struct SetOnExit {
        std::atomic<bool>& flag;
        ~SetOnExit() { flag.store(true); }
    };
    EXPECT_THROW(asyncio::run_on_threads(2,
                                         [&](std::size_t index) -> asyncio::Coro<> {
                                             asyncio::ServerOptions options{.reuse_port = true};
                                             if (index == 0) {
                                                 SetOnExit gone{loop0_gone};
                                                 asyncio::Server server = co_await asyncio::start_server(
                                                     answer_with(0), "127.0.0.1", 0, options);
                                                 port.store(server.port());
                                                 while (!second_listening.load()) co_await asyncio::sleep_ms(1);
                                                 throw std::runtime_error("loop 0 dies");
                                             }
                                             while (port.load() == 0) co_await asyncio::sleep_ms(1);
                                             asyncio::Server server = co_await asyncio::start_server(
                                                 answer_with(1), "127.0.0.1", port.load(), options);
                                             second_listening.store(true);
                                             while (!loop0_gone.load()) co_await asyncio::sleep_ms(1);
                                             answered = co_await tally(port.load(), connections);
                                             server.close();
                                             co_await server.wait_closed();
                                         }),
                 std::runtime_error);
    EXPECT_EQ(answered[0], 0);
    EXPECT_EQ(answered[1], connections);  // every connection reached the surviving loop
}

}  // namespace
