// What start_server and start_unix_server share: a bound, listening socket becomes a Server
// (the accept task, one task per connection, optional TLS).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "asyncio/server.hpp"
#include "asyncio/tls.hpp"

namespace asyncio::detail {

struct ServerState;

/// State for a listening Unix socket `fd` (owned from here: closed with the state). `name` is
/// the printable path for errors; `socket_file` (empty for abstract names) is removed when the
/// server closes, if it is still the file bound now.
std::shared_ptr<ServerState> make_unix_server_state(int fd, std::string name, std::string socket_file);

/// Starts accepting on the state's listening socket and returns its Server once the accept
/// task has started.
Coro<Server> serve_listener(std::shared_ptr<ServerState> server, ConnectionCallback callback,
                            std::optional<ssl::SSLContext> context);

}  // namespace asyncio::detail
