// Port of micropython tests/multi_net/asyncio_tcp_client_rst.py
// Checks: when the peer resets the connection (close with SO_LINGER 0: a TCP RST) part way
// through what the server reads, the server's read raises std::system_error with ECONNRESET
// (Python: OSError 104).
// Upstream runs the server (instance0) and a plain blocking-socket client (instance1) as two
// processes; here both run in one loop on 127.0.0.1, the client connecting to server.port()
// (port 0 is bound) with a plain socket driven from a task, and each side keeps its own trace
// (the two sections of the .exp file; instance1 prints nothing). Upstream's sleeps (client
// 0.1 s before resetting, server 0.2 s "wait for client to drop connection") are replaced by
// two Events: the client resets once the server has read, the server reads on once reset.
#include <asyncio/asyncio.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_tcp_client_rst_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioTcpClientRst = asyncio::testing::LoopTest;

namespace {

struct Shared {
    Trace server;        // instance0
    Trace client;        // instance1
    Event ev;            // set by the connection handler as it ends
    Event server_read;   // the handler has read its first 10 bytes
    Event client_reset;  // the client has reset the connection
    int reset_errno = 0;
};

Coro<> handle_connection(Stream reader, Stream writer, Shared* s) {
    std::string data = co_await reader.read(10);  // should succeed
    s->server(data);
    s->server_read.set();
    co_await s->client_reset.wait();  // upstream: sleep(0.2), "wait for client to drop connection"
    try {
        // Upstream's single read(100) raises there: MicroPython drops the 8 bytes received
        // before the reset. Here they are returned first and the error comes on the next read
        // (docs/differences.md, departures, row "bytes before a socket error": lost (Q13) ->
        // returned first; the error comes on the next read), so a second read is added.
        data = co_await reader.read(100);
        s->server(data);
        data = co_await reader.read(100);  // ours only: the reset surfaces here
        s->server(data);
        writer.close();
        co_await writer.wait_closed();
    } catch (const std::system_error& er) {
        s->server("OSError " + std::to_string(er.code().value()));
        s->reset_errno = er.code().value();
    }
    s->ev.set();
}

ConnectionCallback bind_handler(Shared* s) {
    return [s](Stream reader, Stream writer) { return handle_connection(std::move(reader), std::move(writer), s); };
}

// instance1: a plain socket that sends a request, then closes with a TCP RST.
Coro<> rst_client(std::uint16_t port, Shared* s) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // A blocking connect to a listening loopback socket completes at once (the kernel
    // finishes the handshake; accept comes later), so it does not stall the loop.
    EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    linger lgr{};
    lgr.l_onoff = 1;
    lgr.l_linger = 0;
    EXPECT_EQ(::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lgr, sizeof lgr), 0) << std::strerror(errno);
    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
    co_await s->server_read.wait();  // upstream: time.sleep(0.1)
    ::close(fd);                     // This issues a TCP RST since we've set the linger option
    s->client_reset.set();
}

Coro<> main_task(Shared* s) {
    ConnectionCallback callback = bind_handler(s);
    Server server = co_await start_server(std::move(callback), "127.0.0.1", 0);
    // multitest.next(): instance1 starts.
    Task<> client = create_task(rst_client(server.port(), s));
    // async with server:
    co_await wait_for(s->ev.wait(), 10.0);
    server.close();
    co_await server.wait_closed();
    co_await client;
}

}  // namespace

TEST_F(AsyncioTcpClientRst, APeerResetMakesTheNextReadRaiseConnectionReset) {
    Shared s;
    run(main_task(&s));

    EXPECT_EQ(s.server.lines, (std::vector<std::string>{
                                  "GET / HTTP",
                                  "/1.0\r\n\r\n",  // ours only: the bytes received before the reset
                                  "OSError " + std::to_string(ECONNRESET),  // 104 on Linux
                              }));
    EXPECT_TRUE(s.client.lines.empty());
    EXPECT_EQ(s.reset_errno, ECONNRESET);
}

}  // namespace asyncio_tcp_client_rst_test
