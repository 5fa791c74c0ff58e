// Port of micropython tests/net_hosted/asyncio_loopback.py
// Checks: an echo server and a client over loopback: the client writes 100 bytes and drains,
// the handler reads them with readexactly, writes them back, drains and closes; the client
// reads them with readexactly and closes; then the server is closed (`async with server`).
// Upstream binds 0.0.0.0:8080; here 127.0.0.1 port 0, the client connecting to server.port().
// Upstream orders the two sides with sleeps (each sleeps 0.1 s before reading, the client's
// sleep starting first); here two Events give the same order: the client reads once the
// handler has started, the handler reads once the client is reading.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_loopback_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioLoopback = asyncio::testing::LoopTest;

namespace {

struct Shared {
    Trace trace;
    Event handler_started;  // upstream: the handler's sleep(0.1) starts after the client's
    Event client_reading;   // upstream: the client's sleep(0.1) ends first
    Event handler_done;     // not in upstream: the handler task has ended
    std::uint16_t port = 0; // the port the server was given
};

Coro<> client(std::string host, std::uint16_t port, Shared* s) {
    s->trace("client open_connection to " + host + ":" + std::to_string(port));
    auto [reader, writer] = co_await open_connection(host, port);

    const std::string data_in(100, 'A');

    s->trace("client writing");
    writer.write(data_in);
    co_await writer.drain();

    co_await s->handler_started.wait();  // upstream: sleep(0.1)

    s->trace("client reading");
    s->client_reading.set();
    std::string data = co_await reader.readexactly(100);
    s->trace("client got " + std::to_string(data.size()) + " bytes");

    EXPECT_EQ(data_in, data);

    s->trace("client closing");

    writer.close();
    co_await writer.wait_closed();

    s->trace("client closed");
}

Coro<> echo_handler(Stream reader, Stream writer, Shared* s) {
    s->trace("handler reading");
    s->handler_started.set();
    co_await s->client_reading.wait();  // upstream: sleep(0.1)
    std::string data = co_await reader.readexactly(100);
    s->trace("handler got " + std::to_string(data.size()) + " bytes");

    s->trace("handler writing");
    writer.write(data);
    co_await writer.drain();

    s->trace("handler closing");

    writer.close();
    co_await writer.wait_closed();

    s->trace("handler closed");
    s->handler_done.set();
}

ConnectionCallback bind_handler(Shared* s) {
    return [s](Stream reader, Stream writer) { return echo_handler(std::move(reader), std::move(writer), s); };
}

Coro<> test(std::string host, std::uint16_t port, Shared* s) {
    s->trace("create server on " + host + ":" + std::to_string(port));
    ConnectionCallback callback = bind_handler(s);
    Server server = co_await start_server(std::move(callback), host, port);
    s->port = server.port();

    {  // async with server:
        s->trace("server started");
        co_await client("127.0.0.1", server.port(), s);
        co_await wait_for(s->handler_done.wait(), 10.0);  // not in upstream: no task left behind
    }
    server.close();
    co_await server.wait_closed();
    s->trace("server closed");
}

}  // namespace

TEST_F(AsyncioLoopback, AnEchoServerAndAClientExchangeDataOverLoopback) {
    Shared s;
    run(test("127.0.0.1", 0, &s));
    EXPECT_NE(s.port, 0);

    EXPECT_EQ(s.trace.lines, (std::vector<std::string>{
                                 "create server on 127.0.0.1:0",
                                 "server started",
                                 "client open_connection to 127.0.0.1:" + std::to_string(s.port),
                                 "client writing",
                                 "handler reading",
                                 "client reading",
                                 "handler got 100 bytes",
                                 "handler writing",
                                 "handler closing",
                                 "handler closed",
                                 "client got 100 bytes",
                                 "client closing",
                                 "client closed",
                                 "server closed",
                             }));
}

}  // namespace asyncio_loopback_test
