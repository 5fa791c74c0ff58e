// Ports of CPython's Lib/test/test_asyncio/test_sock_lowlevel.py (behaviour, not code), one
// TEST per upstream test, named after it. Upstream drives raw sockets with loop.sock_*; this
// library's socket API is Stream (TCP, Unix) and DatagramSocket (UDP), so each test checks the
// same behaviour through them: a request answered, a refused connection, addresses on both
// ends, a cancelled read or drain losing nothing, a megabyte each way, a datagram echoed.
// Not ported: the blocking-socket ValueError checks and the *_recv_into / recvfrom_into
// variants (no raw-socket API), test_sendto_blocking (it patches sendto to raise
// BlockingIOError; loopback UDP never fills the send buffer), test_sock_client_connect_racing
// and test_create_connection_sock (they connect a socket the test made itself).
#include <asyncio/asyncio.hpp>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "conformance/cpython/unix_support.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::cpython::FdCount;
using asyncio::cpython::UnixSocketPath;
using BaseSockTestsMixin = asyncio::testing::LoopTest;

namespace {

/// Upstream's run_test_server: answers a request line with an HTTP/1.0 response.
Coro<> http_answer(Stream reader, Stream writer) {
    std::string line = co_await reader.readline();
    writer.write("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

/// _basetest_sock_client_ops: send the request, read the answer, read on to the end.
Coro<> client_ops(Stream reader, Stream writer) {
    writer.write("GET / HTTP/1.0\r\n\r\n");
    co_await writer.drain();
    std::string data = co_await reader.read(1024);
    std::string rest = co_await reader.read();  // consume data
    EXPECT_EQ(data.rfind("HTTP/1.0 200 OK", 0), 0u) << data;
    EXPECT_EQ((data + rest).substr((data + rest).size() - 2), "ok");
    writer.close();
    co_await writer.wait_closed();
}

}  // namespace

TEST_F(BaseSockTestsMixin, test_sock_client_ops) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Server httpd = co_await start_server(http_answer, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", httpd.port());
        co_await client_ops(r, w);
        httpd.close();
        co_await httpd.wait_closed();
    };
    run(main());
}

TEST_F(BaseSockTestsMixin, test_unix_sock_client_ops) {
    FdCount fds;
    auto main = []() -> Coro<> {
        UnixSocketPath sp("sock_client_ops");
        Server httpd = co_await start_unix_server(http_answer, sp.path);
        auto [r, w] = co_await open_unix_connection(sp.path);
        co_await client_ops(r, w);
        httpd.close();
        co_await httpd.wait_closed();
    };
    run(main());
}

TEST_F(BaseSockTestsMixin, test_sock_client_fail) {
    // A port nobody listens on (bound once to learn a free one, then released).
    FdCount fds;
    auto main = []() -> Coro<> {
        std::uint16_t port = 0;
        {
            Server probe = co_await start_server(http_answer, "127.0.0.1", 0);
            port = probe.port();
            probe.close();
            co_await probe.wait_closed();
        }
        try {
            (void)co_await open_connection("127.0.0.1", port);
            ADD_FAILURE() << "connected to a closed port";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();
        }
    };
    run(main());
}

namespace {
Address g_accepted_peer;  // what the server saw as its client's address

Coro<> remember_peer(Stream reader, Stream writer) {
    g_accepted_peer = writer.get_extra_info("peername");
    (void)co_await reader.read();
    writer.close();
    co_await writer.wait_closed();
}
}  // namespace

TEST_F(BaseSockTestsMixin, test_sock_accept) {
    // The accepted connection's peer is the client's own address, and the client's peer is
    // the listener's address.
    FdCount fds;
    g_accepted_peer = Address{};
    auto main = []() -> Coro<> {
        Server listener = co_await start_server(remember_peer, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", listener.port());
        const Address listener_addr{"127.0.0.1", listener.port()};
        EXPECT_EQ(w.get_extra_info("peername"), listener_addr);
        const Address client_addr = w.get_extra_info("sockname");
        w.close();
        co_await w.wait_closed();
        for (int i = 0; i < 100 && g_accepted_peer.port == 0; ++i) co_await sleep(0);
        EXPECT_EQ(g_accepted_peer, client_addr);
        listener.close();
        co_await listener.wait_closed();
    };
    run(main());
}

TEST_F(BaseSockTestsMixin, test_cancel_sock_accept) {
    // Upstream: an accept that times out, then the listener closed: connecting is refused.
    // Here (there is no accept call to time out): a server nobody connected to, closed;
    // connecting afterwards is refused. Server::wait_closed() is not used as the timed-out
    // call: as in MicroPython, cancelling it stops the server.
    FdCount fds;
    auto main = []() -> Coro<> {
        Server listener = co_await start_server(http_answer, "127.0.0.1", 0);
        const std::uint16_t port = listener.port();
        listener.close();
        co_await listener.wait_closed();
        try {
            (void)co_await open_connection("127.0.0.1", port);
            ADD_FAILURE() << "connected to a closed listener";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();
        }
    };
    run(main());
}

namespace {

/// _basetest_sock_recv_racing: a read cancelled before any data came takes nothing with it.
Coro<> recv_racing(std::uint16_t port) {
    auto [r, w] = co_await open_connection("127.0.0.1", port);
    Task<std::string> early = create_task(r.read(1024));
    co_await sleep(0);
    early.cancel();
    try {
        (void)co_await early;
        ADD_FAILURE() << "the read was not cancelled";
    } catch (const CancelledError&) {
    }
    w.write("GET / HTTP/1.0\r\n\r\n");
    co_await w.drain();
    std::string data = co_await r.read();
    EXPECT_EQ(data.rfind("HTTP/1.0 200 OK", 0), 0u) << data;
    w.close();
    co_await w.wait_closed();
}

std::string g_received;  // everything the racing server read

Coro<> receive_everything(Stream reader, Stream writer) {
    g_received = co_await reader.read();
    writer.close();
    co_await writer.wait_closed();
}

/// _basetest_sock_send_racing: with the kernel's buffer full, a drain is cancelled; what is
/// written next still arrives, after everything written before.
Coro<> send_racing() {
    Server listener = co_await start_server(receive_everything, "127.0.0.1", 0);
    auto [r, w] = co_await open_connection("127.0.0.1", listener.port());
    w.write(std::string(8 << 20, ' '));  // far more than the kernel buffers take at once
    w.write("hello");
    Task<> blocked = create_task(w.drain());
    co_await sleep(0);
    blocked.cancel();
    try {
        co_await blocked;
    } catch (const CancelledError&) {
    }
    w.write("world");
    co_await w.drain();
    w.close();
    co_await w.wait_closed();
    for (int i = 0; i < 10'000 && g_received.empty(); ++i) co_await sleep_ms(1);
    EXPECT_EQ(g_received.size(), (8u << 20) + 10);
    EXPECT_EQ(g_received.substr(g_received.size() - 10), "helloworld");
    listener.close();
    co_await listener.wait_closed();
}

}  // namespace

TEST_F(BaseSockTestsMixin, test_sock_client_racing) {
    FdCount fds;
    g_received.clear();
    auto main = []() -> Coro<> {
        Server httpd = co_await start_server(http_answer, "127.0.0.1", 0);
        co_await wait_for(recv_racing(httpd.port()), 10.0);
        httpd.close();
        co_await httpd.wait_closed();
        co_await wait_for(send_racing(), 10.0);
    };
    run(main());
}

namespace {

constexpr std::size_t kDataSize = 1'000'000;

std::string pattern(std::size_t offset, std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('0' + (offset + i) % 10);
    return s;
}

/// Upstream's POST /loop handler: echoes the body back after an HTTP header.
Coro<> echo_body(Stream reader, Stream writer) {
    std::string request = co_await reader.readline();
    writer.write("HTTP/1.0 200 OK\r\n\r\n");
    std::size_t left = kDataSize;
    while (left > 0) {
        std::string chunk = co_await reader.read(static_cast<long>(left < 65536 ? left : 65536));
        if (chunk.empty()) break;
        left -= chunk.size();
        writer.write(chunk);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

Coro<> send_body(Stream writer) {
    writer.write(pattern(0, kDataSize));
    co_await writer.drain();
}

}  // namespace

TEST_F(BaseSockTestsMixin, test_huge_content) {
    // A megabyte sent while the answer streams back: neither side waits for the other to finish.
    FdCount fds;
    auto main = []() -> Coro<> {
        Server httpd = co_await start_server(echo_body, "127.0.0.1", 0);
        auto [r, w] = co_await open_connection("127.0.0.1", httpd.port());
        w.write("POST /loop HTTP/1.0\r\n");
        co_await w.drain();
        Task<> sending = create_task(send_body(w));
        std::string data = co_await r.read(static_cast<long>(kDataSize));
        EXPECT_EQ(data.rfind("HTTP/1.0 200 OK", 0), 0u);
        while (data.find("\r\n\r\n") == std::string::npos) data += co_await r.read(static_cast<long>(kDataSize));
        std::string body = data.substr(data.find("\r\n\r\n") + 4);
        std::size_t size = 0;
        bool matches = true;
        for (;;) {
            matches = matches && body == pattern(size, body.size());
            size += body.size();
            body = co_await r.read(static_cast<long>(kDataSize));
            if (body.empty()) break;
        }
        EXPECT_TRUE(matches);
        EXPECT_EQ(size, kDataSize);
        co_await sending;
        w.close();
        co_await w.wait_closed();
        httpd.close();
        co_await httpd.wait_closed();
    };
    run(main());
}

TEST_F(BaseSockTestsMixin, test_recvfrom) {
    // Upstream's run_udp_echo_server: a datagram of 4096 bytes comes back whole, from the
    // server's address.
    FdCount fds;
    auto main = []() -> Coro<> {
        const Address local{"127.0.0.1", 0};
        DatagramSocket server = co_await create_datagram_endpoint(local, std::nullopt);
        const Address server_address = server.get_extra_info("sockname");
        auto echo_one = [](DatagramSocket s) -> Coro<> {
            auto [data, from] = co_await s.recvfrom();
            co_await s.sendto(data, from);
        };
        Task<> echo = create_task(echo_one(server));
        const Address any{"127.0.0.1", 0};
        DatagramSocket sock = co_await create_datagram_endpoint(any, std::nullopt);
        const std::string data(4096, '\x01');
        co_await sock.sendto(data, server_address);
        auto [received_data, from_addr] = co_await sock.recvfrom();
        EXPECT_EQ(received_data, data);
        EXPECT_EQ(from_addr, server_address);
        co_await echo;
        sock.close();
        server.close();
    };
    run(main());
}
