// Stream's write path (stream.hpp: write, drain, write buffer limits) over real TCP sockets on
// loopback. System calls are counted through the fault seam (src/io/sys.hpp), armed with a hook
// that only counts, so the kernel underneath is the real one.
#include <asyncio/asyncio.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "io/sys.hpp"
#include "support/tcp_pair.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using namespace asyncio::testing;
using StreamWriteTest = asyncio::testing::LoopTest;
namespace sys = asyncio::detail::sys;

namespace {

// Counts send/sendmsg calls (and, optionally, cuts every one short by a cycling amount).
struct SendCounter {
    int sends = 0;
    std::size_t short_cycle = 0;  // 0: pass everything; n: call k moves at most 1 + k % n bytes
    int fail_with = 0;            // nonzero: every send fails with this errno
    static sys::Decision hook(void* self, sys::Call call, int, std::size_t size, int) {
        auto* c = static_cast<SendCounter*>(self);
        if (call != sys::Call::Send) return {};
        ++c->sends;
        if (c->fail_with != 0) {
            sys::Decision d;
            d.kind = sys::Decision::Fail;
            d.error = c->fail_with;
            return d;
        }
        if (c->short_cycle == 0 || size <= 1) return {};
        sys::Decision d;
        d.kind = sys::Decision::Short;
        d.max = 1 + static_cast<std::size_t>(c->sends) % c->short_cycle;
        return d;
    }
    SendCounter() { sys::set_fault_hook(&hook, this); }  // before open_fd: the seam tracks the fd
    ~SendCounter() { sys::set_fault_hook(nullptr, nullptr); }
    SendCounter(const SendCounter&) = delete;
    SendCounter& operator=(const SendCounter&) = delete;
};

}  // namespace

TEST_F(StreamWriteTest, TenWritesAndADrainCostOneSendmsg) {
    SendCounter counter;
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd, int peer_fd, SendCounter* c) -> Coro<> {
        Stream w = open_fd(fd);
        std::string expected;
        for (int i = 0; i < 10; ++i) {
            std::string piece = "piece " + std::to_string(i) + ";";
            w.write(piece);
            expected += piece;
        }
        EXPECT_EQ(c->sends, 0) << "write() made a system call";
        co_await w.drain();
        EXPECT_EQ(c->sends, 1);
        EXPECT_EQ(take_exactly(peer_fd, expected.size()), expected);
        // Nothing buffered: drain() yields and sends nothing.
        co_await w.drain();
        EXPECT_EQ(c->sends, 1);
        w.close();
    };
    run(main(mine, peer, &counter));
    ::close(peer);
}

TEST_F(StreamWriteTest, DrainsOfTwoTasksInOneRoundShareOneSend) {
    SendCounter counter;
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd, int peer_fd, SendCounter* c) -> Coro<> {
        Stream w = open_fd(fd);
        std::string order;
        auto writer = [](Stream s, std::string text, std::string* log) -> Coro<> {
            s.write(text);
            co_await s.drain();
            *log += text;
        };
        Task<> a = create_task(writer(w, "first;", &order));
        Task<> b = create_task(writer(w, "second;", &order));
        co_await a;
        co_await b;
        // The second drain joined the first's send instead of making its own.
        EXPECT_EQ(c->sends, 1);
        EXPECT_EQ(order, "first;second;");
        EXPECT_EQ(take_exactly(peer_fd, 13), "first;second;");
        w.close();
    };
    run(main(mine, peer, &counter));
    ::close(peer);
}

TEST_F(StreamWriteTest, ALargeRvalueWriteIsSentFromItsOwnStorage) {
    SendCounter counter;
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd, int peer_fd) -> Coro<> {
        Stream w = open_fd(fd);
        std::string big = pattern(64 * 1024, 1);
        const std::string expected = big;
        const char* storage = big.data();
        w.write(std::move(big));  // taken, not copied
        EXPECT_EQ(w.get_write_buffer_size(), expected.size());
        co_await w.drain();
        EXPECT_EQ(sys::last_send_buffer(), static_cast<const void*>(storage));
        EXPECT_EQ(take_exactly(peer_fd, expected.size()), expected);

        // An lvalue is copied: the caller may change it right after write().
        std::string lvalue = pattern(64 * 1024, 2);
        const std::string expected2 = lvalue;
        w.write(lvalue);
        lvalue.assign(lvalue.size(), 'x');
        co_await w.drain();
        EXPECT_NE(sys::last_send_buffer(), static_cast<const void*>(lvalue.data()));
        EXPECT_EQ(take_exactly(peer_fd, expected2.size()), expected2);
        w.close();
    };
    run(main(mine, peer));
    ::close(peer);
}

// CPython test_transports.py test_flowcontrol_mixin_set_write_limits.
TEST_F(StreamWriteTest, FlowcontrolMixinSetWriteLimits) {
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd) -> Coro<> {
        Stream w = open_fd(fd);
        EXPECT_EQ(w.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{16 * 1024, 64 * 1024}));
        w.set_write_buffer_limits(128);
        EXPECT_EQ(w.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{32, 128}));
        w.set_write_buffer_limits(std::nullopt, 10);
        EXPECT_EQ(w.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{10, 40}));
        w.set_write_buffer_limits(100, 100);
        EXPECT_EQ(w.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{100, 100}));
        EXPECT_THROW(w.set_write_buffer_limits(10, 20), std::invalid_argument);  // ValueError
        EXPECT_EQ(w.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{100, 100}));
        w.set_write_buffer_limits();
        EXPECT_EQ(w.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{16 * 1024, 64 * 1024}));
        w.close();
        co_return;
    };
    run(main(mine));
    ::close(peer);
}

// CPython test_selector_events.py test_get_write_buffer_size (bytes written, not yet sent).
TEST_F(StreamWriteTest, GetWriteBufferSize) {
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd, int peer_fd) -> Coro<> {
        Stream w = open_fd(fd);
        EXPECT_EQ(w.get_write_buffer_size(), 0u);
        w.write("abc");
        w.write(std::string(5000, 'd'));
        EXPECT_EQ(w.get_write_buffer_size(), 5003u);
        co_await w.drain();
        EXPECT_EQ(w.get_write_buffer_size(), 0u);
        EXPECT_EQ(take_exactly(peer_fd, 5003).substr(0, 4), "abcd");
        w.close();
    };
    run(main(mine, peer));
    ::close(peer);
}

TEST_F(StreamWriteTest, AboveTheHighWaterMarkDrainWaitsUntilThePeerReads) {
    auto [mine, peer] = tcp_pair(/*small_buffers=*/true);
    auto main = [](int fd, int peer_fd) -> Coro<> {
        Stream w = open_fd(fd);
        w.set_write_buffer_limits(64 * 1024);
        const std::string data = pattern(8 << 20, 3);  // far more than both kernel buffers
        w.write(data);
        Task<> drain = create_task(w.drain());
        for (int i = 0; i < 50; ++i) co_await sleep(0);
        EXPECT_FALSE(drain.done()) << "drain() returned while the peer had read nothing";
        EXPECT_GT(w.get_write_buffer_size(), 64u * 1024);
        std::string received;
        while (!drain.done()) {
            received += take_available(peer_fd);
            co_await sleep_ms(1);  // let the loop see the writable edge the reads made
        }
        co_await drain;
        EXPECT_EQ(w.get_write_buffer_size(), 0u);
        received += take_exactly(peer_fd, data.size() - received.size());
        EXPECT_TRUE(received == data) << "bytes lost or reordered";
        w.close();
    };
    run(main(mine, peer));
    ::close(peer);
}

TEST_F(StreamWriteTest, AWriterThatNeverDrainsHitsTheHardLimit) {
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd) -> Coro<> {
        Stream w = open_fd(fd);
        const std::size_t chunk = 16 << 20;
        for (std::size_t total = 0; total < Stream::kWriteBufferHardLimit; total += chunk) {
            w.write(std::string(chunk, 'a'));  // taken, not copied
        }
        EXPECT_EQ(w.get_write_buffer_size(), Stream::kWriteBufferHardLimit);
        EXPECT_THROW(w.write("b"), RuntimeError);
        EXPECT_EQ(w.get_write_buffer_size(), Stream::kWriteBufferHardLimit);  // nothing appended
        // A higher mark moves the limit up with it (4 × high).
        w.set_write_buffer_limits(Stream::kWriteBufferHardLimit / 2);
        w.write("b");
        EXPECT_EQ(w.get_write_buffer_size(), Stream::kWriteBufferHardLimit + 1);
        w.close();
        co_return;
    };
    run(main(mine));
    ::close(peer);
}

TEST_F(StreamWriteTest, CloseAfterBufferedWritesDeliversEverything) {
    auto [mine, peer] = tcp_pair(/*small_buffers=*/true);
    auto main = [](int fd, int peer_fd) -> Coro<> {
        Stream w = open_fd(fd);
        const std::string data = pattern(1 << 20, 4);
        w.write(std::string_view(data).substr(0, 100));
        w.write(std::string(data.substr(100)));
        w.close();  // nothing sent yet: wait_closed() sends it all, then closes
        Task<> closing = create_task(w.wait_closed());
        std::string received;
        for (;;) {
            received += take_available(peer_fd);
            if (closing.done()) break;
            co_await sleep_ms(1);
        }
        co_await closing;
        received += take_available(peer_fd);
        char c;
        EXPECT_EQ(::recv(peer_fd, &c, 1, 0), 0) << "no end of stream after the data";
        EXPECT_TRUE(received == data) << "received " << received.size() << " of " << data.size();
    };
    run(main(mine, peer));
    ::close(peer);
}

TEST_F(StreamWriteTest, AResetWithDataPendingRaisesAtDrainNotSigpipe) {
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd, int* peer_fd) -> Coro<> {
        Stream w = open_fd(fd);
        linger lg{1, 0};  // close with RST
        ::setsockopt(*peer_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        ::close(*peer_fd);
        *peer_fd = -1;
        w.write(std::string(1 << 20, 'r'));
        try {
            for (int i = 0; i < 3; ++i) {  // the first send may still land in the buffer
                co_await w.drain();
                w.write("more");
            }
            ADD_FAILURE() << "no error after the peer reset";
        } catch (const std::system_error& e) {
            EXPECT_TRUE(e.code().value() == EPIPE || e.code().value() == ECONNRESET) << e.what();
        }
        w.close();
    };
    int peer_fd = peer;
    run(main(mine, &peer_fd));
}

TEST_F(StreamWriteTest, ASendErrorNoDrainSawRaisesAtTheNextDrain) {
    SendCounter counter;
    counter.fail_with = EPIPE;  // the seam shuts the socket down for real, as a reset would
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd, SendCounter* c) -> Coro<> {
        Stream w = open_fd(fd);
        w.write("doomed");
        // This drain queues the round's send, then is cancelled before it runs: the send still
        // happens and fails, with nobody waiting.
        Task<> drain = create_task(w.drain());
        co_await sleep(0);
        EXPECT_FALSE(drain.done());
        drain.cancel();
        EXPECT_THROW(co_await drain, CancelledError);
        for (int i = 0; i < 3 && c->sends == 0; ++i) co_await sleep(0);
        EXPECT_EQ(c->sends, 1);
        EXPECT_EQ(w.get_write_buffer_size(), 0u);  // dropped by the failure
        try {
            co_await w.drain();
            ADD_FAILURE() << "the send error was lost";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EPIPE);
        }
        co_await w.drain();  // reported once
        w.close();
    };
    run(main(mine, &counter));
    ::close(peer);
}

// Every send cut short at a cycling byte count (1..97): mixed small, large and adopted writes
// still arrive whole and in order.
TEST_F(StreamWriteTest, ShortSendmsgAtEveryBoundaryLosesNoByte) {
    SendCounter counter;
    counter.short_cycle = 97;
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd, int peer_fd) -> Coro<> {
        Stream w = open_fd(fd);
        std::string expected;
        for (unsigned round = 0; round < 20; ++round) {
            std::string small = pattern(1 + round * 37 % 300, round);
            std::string large = pattern(16'384 + round * 101, round + 100);
            std::string owned = pattern(5000 + round, round + 200);
            expected += small + large + owned;
            w.write(small);
            w.write(large);
            w.write(std::move(owned));
            co_await w.drain();
        }
        EXPECT_TRUE(take_exactly(peer_fd, expected.size()) == expected);
        EXPECT_EQ(take_available(peer_fd), "");
        w.close();
    };
    run(main(mine, peer));
    ::close(peer);
}
