// Port of micropython tests/multi_net/asyncio_tcp_close_write.py
// Checks: a read sees "" once the peer has closed; writing to a stream after close() and
// wait_closed() raises.
// Upstream runs the server (instance0) and the client (instance1) as two processes; here both
// run in one loop on 127.0.0.1, the client connecting to server.port() (port 0 is bound), and
// each side keeps its own trace (the two sections of the .exp file).
#include <asyncio/asyncio.hpp>

#include <string>
#include <system_error>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_tcp_close_write_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioTcpCloseWrite = asyncio::testing::LoopTest;

namespace {

struct Shared {
    Trace server;  // instance0
    Trace client;  // instance1
    Event ev;      // set by the connection handler as it ends
    std::string write_error;
};

Coro<> handle_connection(Stream reader, Stream writer, Shared* s) {
    // Write data to ensure connection
    writer.write("x");
    co_await writer.drain();

    // Read, should return nothing
    s->server("read: " + co_await reader.read(100));

    // Close connection
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

    // Read data to ensure connection
    s->client("read: " + co_await reader.read(1));

    // Close connection
    s->client("close");
    writer.close();
    co_await writer.wait_closed();

    // Try writing data to the closed connection
    s->client("write");
    // Upstream: OSError (EBADF from the socket write). Here using a closed stream is misuse,
    // reported as RuntimeError("Stream is closed") by write() itself (API.md, "Misuse ... use
    // of a closed loop or stream" raises RuntimeError; include/asyncio/stream.hpp, close()).
    // docs/differences.md has no row for this case (its "write errors: raised by drain()" row
    // is about errors of the socket, which is not reached here).
    try {
        writer.write("x");
        co_await writer.drain();
    } catch (const std::system_error&) {
        s->client("OSError");
    } catch (const RuntimeError& e) {
        s->client("RuntimeError");
        s->write_error = e.what();
    }
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

TEST_F(AsyncioTcpCloseWrite, AReadSeesThePeersCloseAndWritingAfterCloseRaises) {
    Shared s;
    run(tcp_server(&s));

    EXPECT_EQ(s.server.lines, (std::vector<std::string>{
                                  "server running",
                                  "read: ",
                                  "close",
                                  "done",
                              }));
    EXPECT_EQ(s.client.lines, (std::vector<std::string>{
                                  "read: x",
                                  "close",
                                  "write",
                                  "RuntimeError",  // upstream: "OSError" (see tcp_client)
                              }));
    EXPECT_EQ(s.write_error, "Stream is closed");
}

}  // namespace asyncio_tcp_close_write_test
