// start_server and Server: a listening socket, an accept task, one task per connection.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <unordered_map>
#include <vector>

#include "asyncio/errors.hpp"
#include "asyncio/server.hpp"
#include "asyncio/sleep.hpp"
#include "asyncio/task.hpp"
#include "asyncio/timeout.hpp"
#include "asyncio/tls.hpp"
#include "io/sys.hpp"
#include "net/listener.hpp"
#include "net/socket.hpp"
#include "net/stream_state.hpp"
#include "net/tls_session.hpp"
#include "net/tls_context.hpp"

namespace asyncio::detail {

// How long the accept loop backs off when the process or system is out of descriptors.
constexpr std::int64_t kAcceptBackoffMs = 50;

struct ServerState : std::enable_shared_from_this<ServerState> {
    IoHandle io;  // the listening socket
    std::uint16_t port = 0;
    std::string host;
    ConnectionCallback callback;
    std::optional<ssl::SSLContext> context;
    Task<> accept_task;
    bool closing = false;  // close() was called: the accept task's cancellation is expected
    // Connections whose TLS handshake is in progress: close() aborts them (their sockets are
    // not the user's yet, and a client that never speaks would otherwise hold one until the
    // handshake timeout).
    // Registered when accepted (the connection task may not have run yet), so weak: a task
    // destroyed before its first step leaves an expired entry, which close() skips.
    std::unordered_map<StreamState*, std::weak_ptr<StreamState>> handshaking;

    bool tcp = true;          // false for Unix sockets (no Nagle to disable)
    std::string socket_file;  // Unix: the socket file to remove on close ("" for none)
    dev_t socket_dev = 0;     // ... only if it is still the one we bound (same device and inode)
    ino_t socket_ino = 0;

    ~ServerState() { close_socket(); }
    void close_socket() noexcept {
        if (io.fd < 0) return;
        io_unwatch(io);
        sys::close(io.fd);
        io.fd = -1;
        remove_socket_file();
    }
    // As CPython's cleanup_socket: leave the path alone if someone replaced the file since.
    void remove_socket_file() noexcept {
        if (socket_file.empty()) return;
        struct stat st {};
        if (::lstat(socket_file.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == socket_dev &&
            st.st_ino == socket_ino) {
            ::unlink(socket_file.c_str());
        }
        socket_file.clear();
    }
};

namespace {

// Runs the server side of the TLS handshake within the context's handshake_timeout.
// Returns false if the connection ended (failed, timed out, or aborted by Server::close()).
Coro<bool> server_handshake(std::shared_ptr<ServerState> server, std::shared_ptr<StreamState> stream) {
    struct Done {
        ServerState& server;
        StreamState* stream;
        ~Done() { server.handshaking.erase(stream); }
    } done{*server, stream.get()};
    if (stream->fd_closed) co_return false;  // aborted by close() before this task first ran
    stream->tls = make_tls_session(*server->context, stream->io, true, {},
                                   host_port(stream->peer.host, stream->peer.port));
    stream->tls_shutdown_timeout = server->context->shutdown_timeout();
    try {
        co_await timeout(server->context->handshake_timeout(), tls_handshake(stream.get()));
    } catch (const std::exception&) {
        // A failed, timed-out or aborted handshake ends this connection, not the server.
        stream->close_socket();
        co_return false;
    }
    co_return true;
}

Coro<> serve_connection(std::shared_ptr<ServerState> server, std::shared_ptr<StreamState> stream) {
    if (server->context) {
        bool ok = co_await server_handshake(server, stream);
        if (!ok) co_return;
    }
    Stream s(stream);
    co_await server->callback(s, s);
}

// accept(2): Linux passes the pending network errors of the new connection to accept(), and the
// caller should retry as after EAGAIN. Each of these concerns one connection (already gone),
// never the listening socket: try again at once.
bool is_connection_error(int err) {
    switch (err) {
    case EINTR: case ECONNABORTED: case EPROTO: case EPERM: case ENETDOWN: case ENOPROTOOPT:
    case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
    case ECONNRESET: case ETIMEDOUT:
        return true;
    default:
        return false;
    }
}

// The listening socket itself is unusable (closed under us, not a socket): the server ends.
bool is_listener_error(int err) { return err == EBADF || err == EINVAL || err == ENOTSOCK || err == EFAULT; }

// Takes a weak pointer: the state owns the accept task's handle, so a strong one would keep
// both alive forever.
Coro<> accept_loop(std::weak_ptr<ServerState> weak) {
    bool cancelled = false;
    try {
        for (;;) {
            std::shared_ptr<ServerState> server = weak.lock();
            if (!server || server->io.fd < 0) co_return;
            sockaddr_storage addr{};
            socklen_t len = sizeof addr;
            int fd = sys::accept4(server->io.fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                if (server->tcp) set_nodelay(fd);
                std::shared_ptr<StreamState> stream;
                try {
                    stream = std::make_shared<StreamState>(fd, to_address(reinterpret_cast<sockaddr*>(&addr), len));
                } catch (const std::system_error&) {
                    continue;  // epoll_ctl(ADD) failed (the state closed the socket): drop this one only
                }
                if (server->context) server->handshaking[stream.get()] = stream;
                create_task(serve_connection(server, std::move(stream)));
                continue;
            }
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                IoHandle& io = server->io;
                server.reset();  // do not keep the server alive while waiting
                co_await WaitIo{io.readers};
            } else if (is_connection_error(err)) {
                continue;
            } else if (is_listener_error(err)) {
                throw_net_error(err, "accept", server->host, server->port);
            } else {
                // EMFILE, ENFILE, ENOBUFS, ENOMEM, or anything unforeseen: back off and retry,
                // serving the connections we have meanwhile; never stop serving for good.
                server.reset();
                co_await sleep_ms(kAcceptBackoffMs);
            }
        }
    } catch (const CancelledError&) {
        cancelled = true;
    }
    // As MicroPython's accept task: a cancellation stops the server; it is an error only if it
    // did not come from close() (e.g. forwarded from a task awaiting wait_closed()).
    std::shared_ptr<ServerState> server = weak.lock();
    if (cancelled && server && !server->closing) {
        server->closing = true;
        server->close_socket();
        throw CancelledError{};
    }
}

Coro<Server> listen_impl(ConnectionCallback callback, std::string host, std::uint16_t port, ServerOptions options,
                         std::optional<ssl::SSLContext> context) {
    if (!callback) throw std::invalid_argument("start_server: empty callback");
    std::vector<Endpoint> endpoints = co_await resolve(host, port, true);
    const Endpoint& ep = endpoints.front();
    auto server = std::make_shared<ServerState>();
    server->host = host.empty() ? std::string("0.0.0.0") : host;
    server->io.fd = open_tcp_socket(ep.family(), "bind", server->host, port);
    int one = 1;
    ::setsockopt(server->io.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options.reuse_port && ::setsockopt(server->io.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        throw_net_error(errno, "setsockopt(SO_REUSEPORT)", server->host, port);
    }
    if (::bind(server->io.fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
        throw_net_error(errno, "bind", server->host, port);
    }
    if (::listen(server->io.fd, options.backlog) != 0) throw_net_error(errno, "listen", server->host, port);
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(server->io.fd, reinterpret_cast<sockaddr*>(&bound), &len);
    server->port = to_address(reinterpret_cast<sockaddr*>(&bound)).port;
    co_return co_await serve_listener(std::move(server), std::move(callback), std::move(context));
}

}  // namespace

Coro<Server> serve_listener(std::shared_ptr<ServerState> server, ConnectionCallback callback,
                            std::optional<ssl::SSLContext> context) {
    server->callback = std::move(callback);
    server->context = std::move(context);
    io_watch(server->io);
    server->accept_task = create_task(accept_loop(server));
    try {
        co_await sleep(0);  // the accept task has started (as in MicroPython)
    } catch (const CancelledError&) {
        server->accept_task.cancel();
        throw;
    }
    co_return Server(server);
}

std::shared_ptr<ServerState> make_unix_server_state(int fd, std::string path, std::string socket_file) {
    auto server = std::make_shared<ServerState>();
    server->io.fd = fd;
    server->host = std::move(path);
    server->tcp = false;
    if (!socket_file.empty()) {
        struct stat st {};
        if (::stat(socket_file.c_str(), &st) == 0) {
            server->socket_dev = st.st_dev;
            server->socket_ino = st.st_ino;
            server->socket_file = std::move(socket_file);
        }
    }
    return server;
}

}  // namespace asyncio::detail

namespace asyncio {

Server& Server::operator=(Server&& other) noexcept {
    if (this != &other) {
        close();
        state_ = std::move(other.state_);
    }
    return *this;
}

Server::~Server() { close(); }

void Server::close() {
    if (!state_) return;
    state_->closing = true;
    if (state_->accept_task && !state_->accept_task.done()) state_->accept_task.cancel();
    state_->close_socket();
    // Abort the TLS handshakes in progress: their sockets close now (each waiting handshake
    // wakes, finds its stream closed and ends its connection task).
    std::vector<std::shared_ptr<detail::StreamState>> aborted;
    for (auto& [_, weak] : state_->handshaking) {
        if (auto stream = weak.lock()) aborted.push_back(std::move(stream));
    }
    for (auto& stream : aborted) stream->close_socket();
}

namespace {
Coro<> wait_accept_task_end(Task<> accept_task) {
    if (accept_task) co_await accept_task;  // CancelledError only if not closed by close()
}
}  // namespace

Coro<> Server::wait_closed() { return wait_accept_task_end(state_ ? state_->accept_task : Task<>{}); }

std::uint16_t Server::port() const noexcept { return state_ ? state_->port : 0; }

namespace {
void check_server_context(const ssl::SSLContext& context) {
    if (context.protocol() != ssl::PROTOCOL_TLS_SERVER) {
        throw std::invalid_argument("start_server needs a PROTOCOL_TLS_SERVER context");
    }
}
}  // namespace

Coro<Server> start_server(ConnectionCallback callback, std::string host, std::uint16_t port, int backlog) {
    return start_server(std::move(callback), std::move(host), port, ServerOptions{.backlog = backlog});
}

Coro<Server> start_server(ConnectionCallback callback, std::string host, std::uint16_t port, int backlog,
                          ssl::SSLContext context) {
    return start_server(std::move(callback), std::move(host), port, ServerOptions{.backlog = backlog},
                        std::move(context));
}

Coro<Server> start_server(ConnectionCallback callback, std::string host, std::uint16_t port, ServerOptions options) {
    return detail::listen_impl(std::move(callback), std::move(host), port, options, std::nullopt);
}

Coro<Server> start_server(ConnectionCallback callback, std::string host, std::uint16_t port, ServerOptions options,
                          ssl::SSLContext context) {
    check_server_context(context);
    return detail::listen_impl(std::move(callback), std::move(host), port, options, std::move(context));
}

}  // namespace asyncio
