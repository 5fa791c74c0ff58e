// Port of micropython tests/multi_net/asyncio_tcp_readinto.py
// Checks: readinto fills at most the buffer's size and returns the count (2 of "abc" into a
// 2-byte buffer, then the remaining 1); arguments that are not a byte buffer are rejected.
// Upstream runs the server (instance0) and the client (instance1) as two processes; here both
// run in one loop on 127.0.0.1, the client connecting to server.port() (port 0 is bound), and
// each side keeps its own trace (the two sections of the .exp file).
// Python reprs become plain strings: bytearray(b'ab') -> "ab", array('b', [99]) -> "[99]".
#include <asyncio/asyncio.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_tcp_readinto_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioTcpReadinto = asyncio::testing::LoopTest;

namespace {

// Upstream's readinto(5) and readinto() raise TypeError at run time; in C++ they do not
// compile, which these concepts observe.
template <class S>
concept ReadintoTakesAnInt = requires(S s) { s.readinto(5); };
template <class S>
concept ReadintoTakesNothing = requires(S s) { s.readinto(); };

struct Shared {
    Trace server;  // instance0
    Trace client;  // instance1
    Event ev;      // set by the connection handler as it ends
};

Coro<> handle_connection(Stream, Stream writer, Shared* s) {
    writer.write("ab");
    co_await writer.drain();

    writer.write("c");
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

    std::array<char, 2> ba{};  // bytearray(2)
    std::size_t n = co_await reader.readinto(std::span<char>(ba));
    s->client(std::to_string(n));
    s->client(std::string(ba.data(), n));

    std::array<std::byte, 2> a{};  // array.array("b", [0, 0])
    n = co_await reader.readinto(std::span<std::byte>(a));
    s->client(std::to_string(n));
    std::string list = "[";
    for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) list += ", ";
        list += std::to_string(static_cast<signed char>(a[i]));
    }
    s->client(list + "]");

    if constexpr (!ReadintoTakesAnInt<Stream>) s->client("TypeError");
    if constexpr (!ReadintoTakesNothing<Stream>) s->client("TypeError");

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

TEST_F(AsyncioTcpReadinto, ReadintoFillsAtMostTheBufferAndReturnsTheCount) {
    Shared s;
    run(tcp_server(&s));

    EXPECT_EQ(s.server.lines, (std::vector<std::string>{
                                  "server running",
                                  "close",
                                  "done",
                              }));
    EXPECT_EQ(s.client.lines, (std::vector<std::string>{
                                  "2",
                                  "ab",
                                  "1",
                                  "[99]",
                                  "TypeError",  // readinto(5): does not compile
                                  "TypeError",  // readinto(): does not compile
                              }));
}

}  // namespace asyncio_tcp_readinto_test
