// Socket plumbing shared by streams, the server and the resolver: endpoints, non-blocking
// sockets, and the one function that builds every network error's text
// ("connect 127.0.0.1:8443: Connection refused").
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "asyncio/stream.hpp"

namespace asyncio::detail {

struct Endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;
    [[nodiscard]] int family() const noexcept { return addr.ss_family; }
};

/// "host:port", or "[v6]:port".
std::string host_port(const std::string& host, std::uint16_t port);
/// The address of a socket address. Unix sockets: {path, 0}, an abstract name starting with
/// '\0' (its length taken from `len`; without it, up to the first NUL after the leading one).
Address to_address(const sockaddr* sa, socklen_t len = 0) noexcept;

/// std::system_error whose what() is "<operation> <host:port>: <strerror>".
[[noreturn]] void throw_net_error(int err, const char* operation, const std::string& host, std::uint16_t port);

/// The resolver's error category (getaddrinfo's EAI_* codes, named by gai_strerror).
const std::error_category& resolver_category() noexcept;

/// A non-blocking, close-on-exec TCP socket of `family`.
int open_tcp_socket(int family, const char* operation, const std::string& host, std::uint16_t port);
/// Disables Nagle (as CPython's asyncio does for every connected socket).
void set_nodelay(int fd) noexcept;

/// Resolves host/port without blocking the loop: numeric addresses at once, names on a helper
/// thread whose answer comes back through the poller. `passive` for bind addresses ("" = any).
Coro<std::vector<Endpoint>> resolve(std::string host, std::uint16_t port, bool passive);

}  // namespace asyncio::detail
