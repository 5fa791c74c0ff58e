// Stream's read path (stream.hpp: read, readexactly, readline) over real TCP sockets: bytes are
// received straight into the stream's buffer, and a large readexactly() into its result. Where
// bytes land is seen through the fault seam (src/io/sys.hpp), armed with a hook that passes
// every call (or cuts reads short), so the kernel underneath is the real one.
#include <asyncio/asyncio.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>

#include "io/sys.hpp"
#include "support/tcp_pair.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using namespace asyncio::testing;
using StreamReadTest = asyncio::testing::LoopTest;
namespace sys = asyncio::detail::sys;

namespace {

// Passes every call; with `short_cycle` n > 0, recv k moves at most 1 + k % n bytes.
struct RecvWatcher {
    int recvs = 0;
    std::size_t short_cycle = 0;
    static sys::Decision hook(void* self, sys::Call call, int, std::size_t size, int) {
        auto* w = static_cast<RecvWatcher*>(self);
        if (call != sys::Call::Recv) return {};
        ++w->recvs;
        if (w->short_cycle == 0 || size <= 1) return {};
        sys::Decision d;
        d.kind = sys::Decision::Short;
        d.max = 1 + static_cast<std::size_t>(w->recvs) % w->short_cycle;
        return d;
    }
    RecvWatcher() { sys::set_fault_hook(&hook, this); }  // before open_fd: the seam tracks the fd
    ~RecvWatcher() { sys::set_fault_hook(nullptr, nullptr); }
    RecvWatcher(const RecvWatcher&) = delete;
    RecvWatcher& operator=(const RecvWatcher&) = delete;
};

// Sends `data` from another thread in pieces of `piece` bytes (blocking socket).
std::thread send_from_thread(int fd, std::string data, std::size_t piece) {
    return std::thread([fd, data = std::move(data), piece] {
        for (std::size_t at = 0; at < data.size(); at += piece) {
            std::size_t n = std::min(piece, data.size() - at);
            std::size_t sent = 0;
            while (sent < n) {
                ssize_t r = ::send(fd, data.data() + at + sent, n - sent, MSG_NOSIGNAL);
                if (r <= 0) return;
                sent += static_cast<std::size_t>(r);
            }
        }
    });
}

}  // namespace

TEST_F(StreamReadTest, ALargeReadexactlyReceivesIntoItsResult) {
    RecvWatcher watcher;
    auto [mine, peer] = tcp_pair();
    const std::string data = pattern(3 << 20, 7);
    std::thread sender = send_from_thread(peer, data, 100'000);
    auto main = [](int fd, const std::string* expected) -> Coro<> {
        Stream r = open_fd(fd);
        std::string head = co_await r.readexactly(10);  // through the stream's buffer
        std::string body = co_await r.readexactly(expected->size() - 10);
        EXPECT_EQ(head, expected->substr(0, 10));
        EXPECT_TRUE(body == expected->substr(10)) << "bytes lost or reordered";
        // The last recv wrote into the result's own storage.
        auto* last = static_cast<const char*>(sys::last_recv_buffer());
        EXPECT_TRUE(last >= body.data() && last < body.data() + body.size())
            << "the last recv did not land in readexactly's result";
        r.close();
    };
    run(main(mine, &data));
    sender.join();
    ::close(peer);
}

TEST_F(StreamReadTest, ALargeReadexactlyCutShortEverywhereLosesNoByte) {
    RecvWatcher watcher;
    watcher.short_cycle = 4093;
    auto [mine, peer] = tcp_pair();
    const std::string data = pattern(1 << 20, 8);
    std::thread sender = send_from_thread(peer, data, 7'777);
    auto main = [](int fd, const std::string* expected) -> Coro<> {
        Stream r = open_fd(fd);
        std::string a = co_await r.readexactly(100'000);
        std::string line_part = co_await r.read(1);
        std::string b = co_await r.readexactly(expected->size() - 100'001);
        EXPECT_TRUE(a + line_part + b == *expected);
        r.close();
    };
    run(main(mine, &data));
    sender.join();
    ::close(peer);
}

TEST_F(StreamReadTest, ALargeReadexactlyEndingEarlyLeavesItsBytesBuffered) {
    auto [mine, peer] = tcp_pair();
    const std::string data = pattern(200'000, 9);
    const int peer_fd = peer;  // (clang 14 cannot capture a structured binding)
    std::thread sender([peer_fd, &data] {
        std::size_t sent = 0;
        while (sent < data.size()) {
            ssize_t r = ::send(peer_fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (r <= 0) break;
            sent += static_cast<std::size_t>(r);
        }
        ::shutdown(peer_fd, SHUT_WR);
    });
    auto main = [](int fd, const std::string* expected) -> Coro<> {
        Stream r = open_fd(fd);
        EXPECT_THROW(co_await r.readexactly(300'000), EOFError);
        EXPECT_TRUE(co_await r.read(-1) == *expected) << "the partial bytes are not all readable";
        r.close();
    };
    run(main(mine, &data));
    sender.join();
    ::close(peer);
}

TEST_F(StreamReadTest, ACancelledLargeReadexactlyLeavesItsBytesBuffered) {
    auto [mine, peer] = tcp_pair();
    auto main = [](int fd, int peer_fd) -> Coro<> {
        Stream r = open_fd(fd);
        const std::string first = pattern(50'000, 10);
        EXPECT_EQ(::send(peer_fd, first.data(), first.size(), 0), static_cast<ssize_t>(first.size()));
        Task<std::string> read = create_task(r.readexactly(500'000));
        // Wait (bounded) until the read has taken every byte sent so far and waits for more.
        for (int i = 0; i < 2000; ++i) {
            co_await sleep_ms(1);
            char probe;
            if (::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) < 0) break;  // the socket is empty
        }
        EXPECT_FALSE(read.done());
        read.cancel();
        EXPECT_THROW(co_await read, CancelledError);
        const std::string rest = pattern(450'000, 11);
        std::thread sender = send_from_thread(peer_fd, rest, 65'536);
        std::string all = co_await r.readexactly(500'000);
        sender.join();
        EXPECT_TRUE(all == first + rest) << "bytes taken by the cancelled read were lost";
        r.close();
    };
    run(main(mine, peer));
    ::close(peer);
}

TEST_F(StreamReadTest, ReadlineOverManySmallPacketsIntoTheStreamsBuffer) {
    RecvWatcher watcher;
    watcher.short_cycle = 13;
    auto [mine, peer] = tcp_pair();
    std::string text;
    for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i) + " " + std::string(i % 50, 'x') + "\n";
    std::thread sender = send_from_thread(peer, text, 1000);
    auto main = [](int fd, const std::string* expected) -> Coro<> {
        Stream r = open_fd(fd);
        std::string joined;
        for (int i = 0; i < 2000; ++i) joined += co_await r.readline();
        EXPECT_TRUE(joined == *expected);
        r.close();
    };
    run(main(mine, &text));
    sender.join();
    ::close(peer);
}
