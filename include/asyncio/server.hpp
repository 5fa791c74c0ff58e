/// @file
/// Server, start_server (the seed's "TCP stream connections").
///
///      auto server = co_await asyncio::start_server(handle_client, "127.0.0.1", 0);
///      std::uint16_t port = server.port();   // the bound port (useful with port 0)
///      ...
///      server.close();
///      co_await server.wait_closed();
///
/// Each accepted connection runs `callback(reader, writer)` as its own task. Connection tasks
/// are not tracked: closing the server stops accepting but leaves them running (as in
/// MicroPython). An exception from a callback goes to the loop's exception handler and the
/// server keeps serving. The accept loop never stops for one connection's sake: a connection
/// that fails before or while it is accepted (reset, aborted, unreachable, ... as accept(2) lists)
/// or that cannot be watched by epoll is dropped alone; out of descriptors or memory (EMFILE,
/// ENFILE, ENOBUFS, ENOMEM) it backs off briefly and retries, serving the connections it has.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "asyncio/coro.hpp"
#include "asyncio/export.hpp"
#include "asyncio/stream.hpp"

namespace asyncio {

namespace detail {
struct ServerState;
}

/// What start_server runs for each connection.
using ConnectionCallback = std::function<Coro<>(Stream reader, Stream writer)>;

/// A listening server from start_server(): move-only; destroying it closes the socket.
class ASYNCIO_API Server {
public:
    Server() = default;
    /// Takes over `other`'s listening socket.
    Server(Server&&) noexcept = default;
    /// Closes the socket held (if any) and takes over `other`'s.
    Server& operator=(Server&& other) noexcept;
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    /// Closes the listening socket at once (the port can be bound again straight after).
    ~Server();

    /// Stops accepting and closes the listening socket; TLS handshakes still in progress are
    /// aborted (their sockets close now, their callbacks never run). Calling it twice is harmless.
    void close();
    /// Waits until the accept task has ended (not for the connection tasks).
    Coro<> wait_closed();
    /// The bound port.
    [[nodiscard]] std::uint16_t port() const noexcept;

    /// @private
    explicit Server(std::shared_ptr<detail::ServerState> state) noexcept : state_(std::move(state)) {}

private:
    std::shared_ptr<detail::ServerState> state_;
};

namespace ssl {
class SSLContext;
}

/// How start_server listens. Spelled with designated initializers:
/// `start_server(cb, host, port, ServerOptions{.reuse_port = true})`.
struct ServerOptions {
    /// listen(2)'s backlog.
    int backlog = 5;
    /// SO_REUSEPORT: several sockets (typically one per loop, see run_on_threads) may bind the
    /// same address and port, and the kernel spreads incoming connections between them (by a
    /// hash of the peer's address and port). Every socket sharing the port must set it.
    bool reuse_port = false;
};

/// Listens on host:port (port 0: an ephemeral port; "" or "0.0.0.0": every IPv4 interface;
/// "::": IPv6) with SO_REUSEADDR and runs `callback` for each connection. Bind failures raise
/// std::system_error naming the address.
ASYNCIO_API Coro<Server> start_server(ConnectionCallback callback, std::string host, std::uint16_t port, int backlog = 5);
/// As above, over TLS with the server context `context`.
ASYNCIO_API Coro<Server> start_server(ConnectionCallback callback, std::string host, std::uint16_t port, int backlog,
                          ssl::SSLContext context);
/// As above, with the listening options spelled out (backlog, SO_REUSEPORT).
ASYNCIO_API Coro<Server> start_server(ConnectionCallback callback, std::string host, std::uint16_t port, ServerOptions options);
/// As above, over TLS.
ASYNCIO_API Coro<Server> start_server(ConnectionCallback callback, std::string host, std::uint16_t port,
                                      ServerOptions options, ssl::SSLContext context);

}  // namespace asyncio
