// Ports of CPython's Lib/test/test_asyncio/test_events.py (behaviour, not code), the part about
// signals, Unix connections and datagrams (EventLoopTestsMixin), one TEST per upstream test,
// named after it. Real signals (kill, setitimer), real sockets.
// Not ported here: the TypeError checks of test_add_signal_handler for a non-int signal (C++
// types rule them out); the protocol/transport tests (this library has coroutines instead).
#include <asyncio/asyncio.hpp>

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "conformance/cpython/unix_support.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::cpython::disposition;
using asyncio::cpython::FdCount;
using asyncio::cpython::UnixSocketPath;
using EventLoopTestsMixin = asyncio::testing::LoopTest;

namespace {

/// Sends SIGALRM to the process once, after `seconds` (setitimer(ITIMER_REAL), as upstream).
void alarm_after(double seconds) {
    itimerval t{};
    t.it_value.tv_sec = static_cast<time_t>(seconds);
    t.it_value.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(t.it_value.tv_sec)) * 1e6);
    ::setitimer(ITIMER_REAL, &t, nullptr);
}

/// Runs the loop until `ev` is set; the loop sleeps in epoll meanwhile (no polling).
void run_until_set(Event& ev) {
    run([](Event* e) -> Coro<> { co_await wait_for(e->wait(), 60.0); }(&ev));
}

}  // namespace

TEST_F(EventLoopTestsMixin, test_add_signal_handler) {
    Loop& loop = get_event_loop();
    int caught = 0;
    Event got;
    auto my_handler = [&] {
        ++caught;
        got.set();
    };
    // Error behaviour first.
    EXPECT_THROW(loop.add_signal_handler(NSIG + 1, my_handler), std::invalid_argument);
    EXPECT_THROW(loop.remove_signal_handler(NSIG + 1), std::invalid_argument);
    EXPECT_THROW(loop.add_signal_handler(0, my_handler), std::invalid_argument);
    EXPECT_THROW(loop.remove_signal_handler(0), std::invalid_argument);
    EXPECT_THROW(loop.add_signal_handler(-1, my_handler), std::invalid_argument);
    EXPECT_THROW(loop.remove_signal_handler(-1), std::invalid_argument);
    EXPECT_THROW(loop.add_signal_handler(SIGKILL, my_handler), RuntimeError);
    EXPECT_FALSE(loop.remove_signal_handler(SIGKILL));  // nothing to remove: no error either
    // Now set a handler and handle it.
    loop.add_signal_handler(SIGINT, my_handler);
    ::kill(::getpid(), SIGINT);
    run_until_set(got);
    EXPECT_EQ(caught, 1);
    // Removing it restores the default disposition; removing again returns false.
    EXPECT_TRUE(loop.remove_signal_handler(SIGINT));
    EXPECT_EQ(disposition(SIGINT), SIG_DFL);
    EXPECT_FALSE(loop.remove_signal_handler(SIGINT));
}

TEST_F(EventLoopTestsMixin, test_signal_handling_while_selecting) {
    // The signal arrives while the loop is blocked in epoll_wait.
    Loop& loop = get_event_loop();
    int caught = 0;
    Event got;
    loop.add_signal_handler(SIGALRM, [&] {
        ++caught;
        got.set();
    });
    alarm_after(0.01);
    run_until_set(got);
    EXPECT_EQ(caught, 1);
    EXPECT_TRUE(loop.remove_signal_handler(SIGALRM));
}

TEST_F(EventLoopTestsMixin, test_signal_handling_args) {
    // Upstream passes *args to the handler; in C++ the callable carries them.
    Loop& loop = get_event_loop();
    int caught = 0;
    int seen = 0;
    Event got;
    auto my_handler = [&](int arg) {
        ++caught;
        seen = arg;
        got.set();
    };
    loop.add_signal_handler(SIGALRM, [my_handler] { my_handler(42); });
    alarm_after(0.1);
    run_until_set(got);
    EXPECT_EQ(caught, 1);
    EXPECT_EQ(seen, 42);
    EXPECT_TRUE(loop.remove_signal_handler(SIGALRM));
}

namespace {

/// Upstream's test server answers an HTTP request; this one answers a line with its length.
Coro<> answer(Stream reader, Stream writer) {
    std::string line = co_await reader.readline();
    writer.write("HTTP/1.0 200 OK\r\n\r\n" + std::to_string(line.size()) + "\n");
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

}  // namespace

TEST_F(EventLoopTestsMixin, test_create_unix_connection) {
    FdCount fds;
    auto main = []() -> Coro<> {
        UnixSocketPath sp("create_unix_connection");
        Server httpd = co_await start_unix_server(answer, sp.path);
        auto [r, w] = co_await open_unix_connection(sp.path);
        EXPECT_EQ(w.get_extra_info("peername").host, sp.path);
        EXPECT_EQ(w.get_extra_info("sockname").host, "");  // an unnamed client socket
        w.write("GET / HTTP/1.0\r\n");
        co_await w.drain();
        std::string response = co_await r.read();
        EXPECT_EQ(response.rfind("HTTP/1.0 200 OK", 0), 0u) << response;
        EXPECT_GT(response.size(), 0u);
        w.close();
        co_await w.wait_closed();
        httpd.close();
        co_await httpd.wait_closed();
    };
    run(main());
}

namespace {

/// Upstream's _test_create_datagram_endpoint: a server endpoint answers "resp:" + data to
/// whoever sent it; a client endpoint connected to it sends "xxx" and gets 8 bytes back.
Coro<> datagram_round_trip(std::string host) {
    const Address local{host, 0};
    DatagramSocket server = co_await create_datagram_endpoint(local, std::nullopt);
    Address sockname = server.get_extra_info("sockname");
    EXPECT_EQ(sockname.host, host);
    EXPECT_NE(sockname.port, 0);
    auto serve_one = [](DatagramSocket s) -> Coro<std::size_t> {
        auto [data, from] = co_await s.recvfrom();
        std::string resp = "resp:" + data;
        co_await s.sendto(resp, from);
        co_return data.size();
    };
    Task<std::size_t> served = create_task(serve_one(server));
    DatagramSocket client = co_await create_datagram_endpoint(std::nullopt, sockname);
    co_await client.send("xxx");
    EXPECT_EQ(co_await served, 3u);  // server.nbytes
    auto [reply, from] = co_await client.recvfrom();
    EXPECT_EQ(reply.size(), 8u);  // client.nbytes
    EXPECT_EQ(reply, "resp:xxx");
    EXPECT_EQ(from, sockname);
    EXPECT_EQ(client.get_extra_info("sockname").host, host);  // extra info is available
    client.close();
    server.close();
    EXPECT_TRUE(client.is_closing());
}

}  // namespace

TEST_F(EventLoopTestsMixin, test_create_datagram_endpoint) {
    FdCount fds;
    run(datagram_round_trip("127.0.0.1"));
}

TEST_F(EventLoopTestsMixin, test_create_datagram_endpoint_ipv6) {
    FdCount fds;
    run(datagram_round_trip("::1"));
}
