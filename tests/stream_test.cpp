// Stream and open_connection over real loopback sockets (IPv4 and IPv6).
#include <asyncio/asyncio.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using StreamTest = asyncio::testing::LoopTest;

namespace {

int open_fds() {
    int n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d) != nullptr) ++n;
        closedir(d);
    }
    return n;
}

// Server callbacks count themselves, so a test can wait until every one has finished
// (instead of sleeping and hoping).
int g_handlers = 0;          // running now
int g_handlers_started = 0;  // since the test began (reset by FdCount)
struct Handler {
    Handler() {
        ++g_handlers;
        ++g_handlers_started;
    }
    ~Handler() { --g_handlers; }
    Handler(const Handler&) = delete;
};

/// Checks that a test gives back every file descriptor it opened.
class FdCount {
public:
    FdCount() : before_(open_fds()) { g_handlers_started = 0; }
    ~FdCount() { EXPECT_EQ(open_fds(), before_) << "file descriptors leaked"; }

private:
    int before_;
};

/// Waits until the test's connection handler has started and every handler has finished.
Coro<> handlers_done() {
    for (int i = 0; i < 10'000 && (g_handlers_started == 0 || g_handlers > 0); ++i) co_await sleep_ms(1);
    EXPECT_GT(g_handlers_started, 0) << "no connection handler ran";
    EXPECT_EQ(g_handlers, 0) << "a connection handler is still running";
}

// A server callback: echo everything until EOF.
Coro<> echo(Stream reader, Stream writer) {
    Handler h;
    for (;;) {
        std::string data = co_await reader.read(4096);
        if (data.empty()) break;
        writer.write(data);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

// A server callback: send a fixed script in pieces, with pauses, then close.
Coro<> send_pieces(Stream, Stream writer) {
    Handler h;
    const char* pieces[] = {"hel", "lo\nwor", "ld\n", "part", "ial"};
    for (const char* p : pieces) {
        writer.write(p);
        co_await writer.drain();
        co_await sleep_ms(2);
    }
    writer.close();
    co_await writer.wait_closed();
}

Coro<> close_at_once(Stream, Stream writer) {
    Handler h;
    writer.write("abc");
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

Coro<Server> serve(ConnectionCallback cb, std::string host = "127.0.0.1") {
    co_return co_await start_server(std::move(cb), std::move(host), 0);
}

}  // namespace

TEST_F(StreamTest, EchoRoundTripOverIPv4) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(echo);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        w.write("ping\n");
        co_await w.drain();
        EXPECT_EQ(co_await r.readline(), "ping\n");
        auto peer = w.get_extra_info("peername");
        EXPECT_EQ(peer.host, "127.0.0.1");
        EXPECT_EQ(peer.port, server.port());
        w.close();
        co_await w.wait_closed();
        server.close();
        co_await server.wait_closed();
        co_await handlers_done();  // the echo task sees EOF and ends
    };
    run(main());
}

TEST_F(StreamTest, EchoRoundTripOverIPv6) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(echo, "::1");
        auto [r, w] = co_await open_connection("::1", server.port());
        w.write("six\n");
        co_await w.drain();
        EXPECT_EQ(co_await r.readline(), "six\n");
        EXPECT_EQ(w.get_extra_info("peername").host, "::1");
        w.close();
        co_await w.wait_closed();
        co_await handlers_done();
    };
    run(main());
}

TEST_F(StreamTest, AHostNameIsResolvedWithoutBlockingTheLoop) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(echo);
        auto [r, w] = co_await open_connection("localhost", server.port());
        w.write("named\n");
        co_await w.drain();
        EXPECT_EQ(co_await r.readline(), "named\n");
        w.close();
        co_await w.wait_closed();
        co_await handlers_done();
    };
    run(main());
}

TEST_F(StreamTest, ReadlineJoinsPacketsAndReturnsThePartialLastLineAtEof) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(send_pieces);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        EXPECT_EQ(co_await r.readline(), "hello\n");
        EXPECT_EQ(co_await r.readline(), "world\n");
        EXPECT_EQ(co_await r.readline(), "partial");  // no '\n' before EOF
        EXPECT_EQ(co_await r.readline(), "");
        EXPECT_EQ(co_await r.read(10), "");
        w.close();
        co_await w.wait_closed();
    };
    run(main());
}

TEST_F(StreamTest, ReadMinusOneReadsToEndOfStream) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(send_pieces);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        EXPECT_EQ(co_await r.read(), "hello\nworld\npartial");
        EXPECT_EQ(co_await r.read(), "");
        w.close();
        co_await w.wait_closed();
    };
    run(main());
}

TEST_F(StreamTest, ReadexactlyAcrossPacketsAndEofErrorWhenTheStreamEnds) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(send_pieces);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        EXPECT_EQ(co_await r.readexactly(0), "");
        EXPECT_EQ(co_await r.readexactly(8), "hello\nwo");
        EXPECT_THROW(co_await r.readexactly(100), EOFError);
        EXPECT_EQ(co_await r.read(), "rld\npartial");  // nothing was lost by the failed readexactly
        w.close();
        co_await w.wait_closed();
    };
    run(main());
}

TEST_F(StreamTest, ReadintoFillsACallerBuffer) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(close_at_once);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        char buf[2];
        std::size_t n = co_await r.readinto(std::span<char>(buf, 2));
        EXPECT_EQ(n, 2u);
        EXPECT_EQ(std::string(buf, n), "ab");
        std::byte b[8];
        n = co_await r.readinto(std::span<std::byte>(b));
        EXPECT_EQ(n, 1u);
        EXPECT_EQ(static_cast<char>(b[0]), 'c');
        EXPECT_EQ(co_await r.readinto(std::span<std::byte>(b)), 0u);  // EOF
        w.close();
        co_await w.wait_closed();
    };
    run(main());
}

TEST_F(StreamTest, WriteOnlyBuffersUntilDrain) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(echo);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        w.write("a");
        w.write("b");
        // Nothing was sent yet: the echo cannot have come back.
        EXPECT_THROW(co_await wait_for_ms(r.read(10), 20), TimeoutError);
        co_await w.drain();
        EXPECT_EQ(co_await r.readexactly(2), "ab");
        w.close();
        co_await w.wait_closed();
        co_await handlers_done();
    };
    run(main());
}

TEST_F(StreamTest, ALargeWriteIsDrainedThroughASlowReader) {
    FdCount fds;
    // 64 MiB from the client; the server reads slowly in 64 KiB steps and counts.
    static std::size_t received;
    static bool server_done;
    received = 0;
    server_done = false;
    auto slow_reader = [](Stream reader, Stream writer) -> Coro<> {
        for (;;) {
            std::string chunk = co_await reader.read(65536);
            if (chunk.empty()) break;
            for (char c : chunk) {
                if (c != static_cast<char>('a' + received % 26)) throw std::runtime_error("corrupt data");
                ++received;
            }
            if (received % (8 << 20) < 65536) co_await sleep_ms(1);  // slow down now and then
        }
        writer.close();
        co_await writer.wait_closed();
        server_done = true;
    };
    auto main = [](ConnectionCallback cb) -> Coro<> {
        Server server = co_await serve(std::move(cb));
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        std::string payload(64 << 20, '\0');
        for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
        w.write(payload);
        co_await w.drain();
        w.close();
        co_await w.wait_closed();
        while (!server_done) co_await sleep_ms(5);
        EXPECT_EQ(received, payload.size());
    };
    run(main(slow_reader));
}

TEST_F(StreamTest, ConnectionRefusedRaisesSystemErrorNamingTheAddress) {
    FdCount fds;
    auto main = []() -> Coro<> {
        std::uint16_t port;
        {
            Server s = co_await serve(echo);
            port = s.port();
        }  // closed: nothing listens there now
        try {
            co_await open_connection("127.0.0.1", port);
            ADD_FAILURE() << "expected std::system_error";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNREFUSED);
            EXPECT_NE(std::string(e.what()).find("connect 127.0.0.1:" + std::to_string(port)), std::string::npos)
                << e.what();
        }
    };
    run(main());
}

TEST_F(StreamTest, AnUnresolvableNameRaisesSystemErrorNamingTheHost) {
    FdCount fds;
    auto main = []() -> Coro<> {
        try {
            co_await open_connection("no-such-host.invalid", 80);
            ADD_FAILURE() << "expected std::system_error";
        } catch (const std::system_error& e) {
            EXPECT_NE(std::string(e.what()).find("no-such-host.invalid:80"), std::string::npos) << e.what();
        }
    };
    run(main());
}

TEST_F(StreamTest, ReadsAndWritesAfterCloseRaiseRuntimeError) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(echo);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        w.close();
        EXPECT_THROW(w.write("x"), RuntimeError);
        EXPECT_THROW(co_await r.read(1), RuntimeError);
        EXPECT_THROW(co_await w.drain(), RuntimeError);
        co_await w.wait_closed();
        co_await w.wait_closed();  // twice is fine
        co_await handlers_done();
    };
    run(main());
}

TEST_F(StreamTest, GetExtraInfoGivesPeerAndSockNameAndRejectsOtherKeys) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(echo);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        auto [host, port] = w.get_extra_info("peername");
        EXPECT_EQ(host, "127.0.0.1");
        EXPECT_EQ(port, server.port());
        EXPECT_NE(w.get_extra_info("sockname").port, 0);
        EXPECT_THROW((void)w.get_extra_info("socket"), std::invalid_argument);
        w.close();
        co_await w.wait_closed();
        co_await handlers_done();
    };
    run(main());
}

TEST_F(StreamTest, CancellingATaskBlockedInReadLeavesTheStreamUsable) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server server = co_await serve(echo);
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        Task<std::string> blocked = create_task(r.read(10));
        co_await sleep_ms(5);
        blocked.cancel();
        EXPECT_THROW(co_await blocked, CancelledError);
        w.write("still ok");
        co_await w.drain();
        EXPECT_EQ(co_await r.readexactly(8), "still ok");
        w.close();
        co_await w.wait_closed();
        co_await handlers_done();
    };
    run(main());
}

TEST_F(StreamTest, CancellingAReaderDoesNotDisturbAWriterOnTheSameStream) {
    // MicroPython's quirk Q2: cancelling one direction dropped the other's registration.
    FdCount fds;
    static bool go;
    static bool server_done;
    go = false;
    server_done = false;
    auto stalled_reader = [](Stream reader, Stream writer) -> Coro<> {
        while (!go) co_await sleep_ms(1);  // do not read until told
        std::size_t total = 0;
        for (;;) {
            std::string d = co_await reader.read(1 << 20);
            if (d.empty()) break;
            total += d.size();
        }
        writer.write(std::to_string(total));
        co_await writer.drain();
        writer.close();
        co_await writer.wait_closed();
        server_done = true;
    };
    auto main = [](ConnectionCallback cb) -> Coro<> {
        Server server = co_await serve(std::move(cb));
        auto [r, w] = co_await open_connection("127.0.0.1", server.port());
        w.write(std::string(32 << 20, 'x'));  // far more than the kernel buffers hold
        Task<> writer = create_task(w.drain());
        Task<std::string> reader = create_task(r.read(10));
        co_await sleep_ms(20);
        EXPECT_FALSE(writer.done());  // blocked: the peer is not reading
        reader.cancel();
        EXPECT_THROW(co_await reader, CancelledError);
        go = true;
        co_await wait_for(writer, 10.0);  // still woken when the peer drains
        w.close();
        co_await w.wait_closed();
        while (!server_done) co_await sleep_ms(2);
    };
    run(main(stalled_reader));
}

TEST_F(StreamTest, APeerResetSurfacesAsSystemErrorNotASignal) {
    FdCount fds;
    auto main = []() -> Coro<> {
        // A raw listening socket, so the test can reset the accepted connection (SO_LINGER 0).
        int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        socklen_t len = sizeof addr;
        ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
        ::listen(lfd, 1);
        auto [r, w] = co_await open_connection("127.0.0.1", ntohs(addr.sin_port));
        int cfd = ::accept(lfd, nullptr, nullptr);
        ::send(cfd, "12345678", 8, 0);
        linger lg{1, 0};
        ::setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        co_await sleep_ms(5);
        ::close(cfd);  // RST
        ::close(lfd);
        co_await sleep_ms(5);
        // The bytes received before the reset are returned first, then the error.
        EXPECT_EQ(co_await r.read(100), "12345678");
        try {
            co_await r.read(100);
            ADD_FAILURE() << "expected ECONNRESET";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNRESET) << e.what();
        }
        // Writing to the reset connection: EPIPE or ECONNRESET at drain(), never SIGPIPE.
        w.write(std::string(1 << 20, 'y'));
        try {
            co_await w.drain();
            co_await w.drain();
            ADD_FAILURE() << "expected a write error";
        } catch (const std::system_error& e) {
            EXPECT_TRUE(e.code().value() == EPIPE || e.code().value() == ECONNRESET) << e.what();
        }
        w.close();
        co_await w.wait_closed();
    };
    run(main());
}
