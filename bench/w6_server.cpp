// W6 TCP echo server: `asyncio_bench server PORT` serves 127.0.0.1:PORT until killed; one task
// per connection: read up to 4096 bytes, write them back, drain, until end of stream.
// `asyncio_bench server PORT --loops N` (W7 b): N loops on N threads, each with its own server on
// the port (SO_REUSEPORT), the kernel spreading the connections over them.
// `asyncio_bench tls-server PORT CERT KEY` serves the same echo over TLS (bench/tls_certs.sh
// makes a certificate; bench/tls_loadgen.cpp drives it). Accepted sockets get TCP_NODELAY from
// the library (src/net/socket.cpp), as WORKLOADS.md asks of every server.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <system_error>

#include "workload.hpp"

namespace {

constexpr int kBacklog = 128;

asyncio::Coro<> echo(asyncio::Stream reader, asyncio::Stream writer) {
    try {
        for (;;) {
            std::string d = co_await reader.read(4096);
            if (d.empty()) break;
            writer.write(d);
            co_await writer.drain();
        }
    } catch (const std::system_error&) {
        // A client reset (the load generator exits with connections open): just close.
    }
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<void> serve_forever(asyncio::Server* server) {
    asyncio::Event never;
    co_await never.wait();
    server->close();
}

asyncio::Coro<void> serve(std::uint16_t port) {
    asyncio::Server server = co_await asyncio::start_server(echo, "127.0.0.1", port, kBacklog);
    co_await serve_forever(&server);
}

// W7 (b): one of several loops sharing the port through SO_REUSEPORT.
asyncio::Coro<void> serve_shared(std::uint16_t port) {
    asyncio::ServerOptions options{.backlog = kBacklog, .reuse_port = true};
    asyncio::Server server = co_await asyncio::start_server(echo, "127.0.0.1", port, options);
    co_await serve_forever(&server);
}

asyncio::Coro<void> serve_tls(std::uint16_t port, asyncio::ssl::SSLContext ctx) {
    asyncio::Server server = co_await asyncio::start_server(echo, "127.0.0.1", port, kBacklog, ctx);
    co_await serve_forever(&server);
}

bool parse_port(const char* s, std::uint16_t* port) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || v <= 0 || v > 65535) return false;
    *port = static_cast<std::uint16_t>(v);
    return true;
}

}  // namespace

int bench::run_server(int argc, char** argv) {
    std::uint16_t port = 0;
    int loops = 0;  // 0: one loop on the main thread, no SO_REUSEPORT (the peers' W6)
    if (argc == 5 && std::string(argv[3]) == "--loops") loops = std::atoi(argv[4]);
    if (argc < 3 || !parse_port(argv[2], &port) || (argc > 3 && loops < 1)) {
        std::fprintf(stderr, "usage: %s server PORT [--loops N]\n", argv[0]);
        return 2;
    }
    try {
        if (loops == 0) {
            asyncio::run(serve(port));
        } else {
            asyncio::run_on_threads(static_cast<std::size_t>(loops),
                                    [port](std::size_t) { return serve_shared(port); });
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "server: %s\n", e.what());
        return 1;
    }
    return 0;
}

int bench::run_tls_server(int argc, char** argv) {
    std::uint16_t port = 0;
    if (argc < 5 || !parse_port(argv[2], &port)) {
        std::fprintf(stderr, "usage: %s tls-server PORT CERT KEY\n", argv[0]);
        return 2;
    }
    try {
        asyncio::ssl::SSLContext ctx(asyncio::ssl::PROTOCOL_TLS_SERVER);
        ctx.load_cert_chain(argv[3], argv[4]);
        asyncio::run(serve_tls(port, ctx));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tls-server: %s\n", e.what());
        return 1;
    }
    return 0;
}
