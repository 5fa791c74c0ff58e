// Port of micropython tests/multi_net/asyncio_tcp_server_client.py
// Checks: start_server / open_connection echo: the client writes, the server's callback reads
// it, echoes it and closes; the client reads the echo; the server side has a peername.
// Upstream runs the server (instance0) and the client (instance1) as two processes; here both
// run in one loop on 127.0.0.1, the client connecting to server.port() (port 0 is bound), and
// each side keeps its own trace (the two sections of the .exp file).
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_tcp_server_client_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioTcpServerClient = asyncio::testing::LoopTest;

namespace {

struct Shared {
    Trace server;  // instance0
    Trace client;  // instance1
    Event ev;      // set by the connection handler as it ends
    Address peername;
};

Coro<> handle_connection(Stream reader, Stream writer, Shared* s) {
    // Test that peername exists (but don't check its value, it changes)
    s->peername = writer.get_extra_info("peername");

    std::string data = co_await reader.read(100);
    s->server("echo: " + data);
    writer.write(data);
    co_await writer.drain();

    s->server("close");
    writer.close();
    co_await writer.wait_closed();

    s->server("done");
    s->ev.set();
}

ConnectionCallback bind_handler(Shared* s) {
    return [s](Stream reader, Stream writer) { return handle_connection(std::move(reader), std::move(writer), s); };
}

Coro<> tcp_client(std::uint16_t port, std::string message, Shared* s) {
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    s->client("write: " + message);
    writer.write(message);
    co_await writer.drain();
    std::string data = co_await reader.read(100);
    s->client("read: " + data);
    // Not in upstream (its process exits): close the client's stream.
    writer.close();
    co_await writer.wait_closed();
}

Coro<> tcp_server(Shared* s) {
    ConnectionCallback callback = bind_handler(s);
    Server server = co_await start_server(std::move(callback), "127.0.0.1", 0);
    s->server("server running");
    // multitest.next(): instance1 starts.
    Task<> client = create_task(tcp_client(server.port(), "client data", s));
    // async with server:
    co_await wait_for(s->ev.wait(), 10.0);
    server.close();
    co_await server.wait_closed();
    co_await client;
}

}  // namespace

TEST_F(AsyncioTcpServerClient, TheServerEchoesWhatTheClientWrites) {
    Shared s;
    run(tcp_server(&s));

    EXPECT_EQ(s.server.lines, (std::vector<std::string>{
                                  "server running",
                                  "echo: client data",
                                  "close",
                                  "done",
                              }));
    EXPECT_EQ(s.client.lines, (std::vector<std::string>{
                                  "write: client data",
                                  "read: client data",
                              }));
    EXPECT_EQ(s.peername.host, "127.0.0.1");
    EXPECT_NE(s.peername.port, 0);
}

}  // namespace asyncio_tcp_server_client_test
