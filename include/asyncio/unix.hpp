/// @file
/// Unix domain stream sockets: open_unix_connection, start_unix_server (CPython's names).
///
///      auto server = co_await asyncio::start_unix_server(handle_client, "/run/myapp.sock");
///      auto [reader, writer] = co_await asyncio::open_unix_connection("/run/myapp.sock");
///      ...
///      server.close();                  // also removes /run/myapp.sock
///
/// The same Stream and Server as TCP, with the same behaviour (see stream.hpp, server.hpp).
/// A path starting with '\0' is a Linux abstract name: no file is created, nothing is left
/// behind (build it as std::string("\0name", 5): a string literal stops at the NUL). A path holds
/// at most 107 bytes (abstract: 108), the kernel's limit; longer, or empty, raises
/// std::invalid_argument.
///
/// Before binding, start_unix_server removes a stale socket file at the path, as CPython does:
/// only if it is a socket (any other file is left alone and bind fails with EADDRINUSE). Note
/// that, as in CPython, a live server's socket file is replaced too: two servers must not share a
/// path. Closing the server (or dropping it) removes its socket file, unless another file has
/// taken the path since.
///
/// get_extra_info("peername") / ("sockname") give {path, 0} (an empty path for an unnamed
/// client socket); Server::port() is 0. Errors are std::system_error naming the path, e.g.
/// "connect unix:/run/missing.sock: No such file or directory" (ENOENT); a server whose backlog is
/// full refuses with EAGAIN rather than leaving a half-made connection.
#pragma once

#include <string>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/export.hpp"
#include "asyncio/server.hpp"
#include "asyncio/stream.hpp"

namespace asyncio {

namespace ssl {
class SSLContext;
}

/// Connects to the Unix stream socket at `path`.
ASYNCIO_API Coro<std::pair<Stream, Stream>> open_unix_connection(std::string path);
/// As above, over TLS with the client context `context`. There is no host to check the
/// certificate against, so `server_hostname` is required (std::invalid_argument if empty, as
/// CPython); it is verified and sent as SNI.
ASYNCIO_API Coro<std::pair<Stream, Stream>> open_unix_connection(std::string path, ssl::SSLContext context,
                                                     std::string server_hostname);

/// Listens on the Unix stream socket `path` and runs `callback` for each connection.
ASYNCIO_API Coro<Server> start_unix_server(ConnectionCallback callback, std::string path, int backlog = 100);
/// As above, over TLS with the server context `context`.
ASYNCIO_API Coro<Server> start_unix_server(ConnectionCallback callback, std::string path, int backlog, ssl::SSLContext context);

}  // namespace asyncio
