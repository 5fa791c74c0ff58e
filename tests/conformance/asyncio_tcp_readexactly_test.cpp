// Port of micropython tests/multi_net/asyncio_tcp_readexactly.py
// Checks: readexactly(n) waits across packets; readexactly(0) gives "" at once; readexactly
// raises EOFError when the stream ends first; readexactly(0) still gives "" after that.
// Upstream runs the server (instance0) and the client (instance1) as two processes; here both
// run in one loop on 127.0.0.1, the client connecting to server.port() (port 0 is bound), and
// each side keeps its own trace (the two sections of the .exp file).
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_tcp_readexactly_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioTcpReadexactly = asyncio::testing::LoopTest;

namespace {

struct Shared {
    Trace server;  // instance0
    Trace client;  // instance1
    Event ev;      // set by the connection handler as it ends
};

Coro<> handle_connection(Stream, Stream writer, Shared* s) {
    writer.write("a");
    co_await writer.drain();

    // Split the first 2 bytes up so the client must wait for the second one (upstream pauses
    // 1 s; any pause splits them, and the result does not depend on its length).
    co_await sleep(0.1);

    writer.write("b");
    co_await writer.drain();

    writer.write("c");
    co_await writer.drain();

    writer.write("d");
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

Coro<> tcp_client(std::uint16_t port, Shared* s) {
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    s->client(co_await reader.readexactly(2));
    s->client(co_await reader.readexactly(0));
    s->client(co_await reader.readexactly(1));
    try {
        s->client(co_await reader.readexactly(2));
    } catch (const EOFError&) {
        s->client("EOFError");
    }
    s->client(co_await reader.readexactly(0));
    // Not in upstream. MicroPython loses the partial bytes of a readexactly that hit the end of
    // the stream; here they stay readable (docs/differences.md, departures, row "readexactly at
    // EOF": partial bytes lost -> partial bytes stay readable).
    s->client("rest: " + co_await reader.read());
    // Not in upstream (its process exits): close the client's stream.
    writer.close();
    co_await writer.wait_closed();
}

Coro<> tcp_server(Shared* s) {
    ConnectionCallback callback = bind_handler(s);
    Server server = co_await start_server(std::move(callback), "127.0.0.1", 0);
    s->server("server running");
    // multitest.next(): instance1 starts.
    Task<> client = create_task(tcp_client(server.port(), s));
    // async with server:
    co_await wait_for(s->ev.wait(), 10.0);
    server.close();
    co_await server.wait_closed();
    co_await client;
}

}  // namespace

TEST_F(AsyncioTcpReadexactly, ReadexactlyWaitsAcrossPacketsAndRaisesEOFErrorWhenTheStreamEnds) {
    Shared s;
    run(tcp_server(&s));

    EXPECT_EQ(s.server.lines, (std::vector<std::string>{
                                  "server running",
                                  "close",
                                  "done",
                              }));
    EXPECT_EQ(s.client.lines, (std::vector<std::string>{
                                  "ab",
                                  "",
                                  "c",
                                  "EOFError",
                                  "",
                                  "rest: d",  // ours only, see tcp_client
                              }));
}

}  // namespace asyncio_tcp_readexactly_test
