// open_connection: resolve, connect each address in turn, optional TLS handshake.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>

#include "asyncio/timeout.hpp"
#include "asyncio/tls.hpp"
#include "io/sys.hpp"
#include "net/socket.hpp"
#include "net/stream_state.hpp"
#include "net/tls_session.hpp"
#include "net/tls_context.hpp"

namespace asyncio {

namespace {

Coro<std::pair<Stream, Stream>> connect_impl(std::string host, std::uint16_t port,
                                             std::optional<ssl::SSLContext> context, std::string server_hostname) {
    std::vector<detail::Endpoint> endpoints = co_await detail::resolve(host, port, false);
    int last_error = 0;
    for (const detail::Endpoint& ep : endpoints) {
        int fd = detail::open_tcp_socket(ep.family(), "connect", host, port);
        Address peer = detail::to_address(reinterpret_cast<const sockaddr*>(&ep.addr));
        int r = detail::sys::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
        if (r != 0 && errno != EINPROGRESS) {
            last_error = errno;
            detail::sys::close(fd);
            continue;
        }
        auto state = std::make_shared<detail::StreamState>(fd, peer);  // owns fd from here
        if (r != 0) {
            co_await detail::WaitIo{state->io.writers};
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                last_error = err;
                continue;  // `state` closes the socket
            }
        }
        detail::set_nodelay(fd);
        if (context) {
            const std::string& name = server_hostname.empty() ? host : server_hostname;
            state->tls = detail::make_tls_session(*context, state->io, false, name, detail::host_port(host, port));
            state->tls_shutdown_timeout = context->shutdown_timeout();
            // TimeoutError past the context's handshake_timeout; `state` closes the socket.
            co_await timeout(context->handshake_timeout(), detail::tls_handshake(state.get()));
        }
        co_return std::pair<Stream, Stream>{Stream(state), Stream(state)};
    }
    detail::throw_net_error(last_error != 0 ? last_error : ECONNREFUSED, "connect", host, port);
}

}  // namespace

Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port) {
    return connect_impl(std::move(host), port, std::nullopt, {});
}

Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port, bool use_ssl) {
    std::optional<ssl::SSLContext> context;
    if (use_ssl) context = ssl::create_default_context();
    return connect_impl(std::move(host), port, std::move(context), {});
}

Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port, ssl::SSLContext context,
                                                std::string server_hostname) {
    if (context.protocol() != ssl::PROTOCOL_TLS_CLIENT) {
        throw std::invalid_argument("open_connection needs a PROTOCOL_TLS_CLIENT context");
    }
    return connect_impl(std::move(host), port, std::move(context), std::move(server_hostname));
}

}  // namespace asyncio
