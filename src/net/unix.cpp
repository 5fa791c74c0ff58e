// open_unix_connection and start_unix_server: Unix domain stream sockets over the TCP code's
// Stream and Server.
#include "asyncio/unix.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "asyncio/timeout.hpp"
#include "asyncio/tls.hpp"
#include "io/sys.hpp"
#include "net/listener.hpp"
#include "net/socket.hpp"
#include "net/stream_state.hpp"
#include "net/tls_context.hpp"
#include "net/tls_session.hpp"

namespace asyncio {

namespace {

bool is_abstract(const std::string& path) { return !path.empty() && path[0] == '\0'; }

// "unix:/path", or "unix:@name" for an abstract name (the convention of ss(8) and CPython's repr).
std::string printable(const std::string& path) {
    if (is_abstract(path)) return "unix:@" + path.substr(1);
    return "unix:" + path;
}

[[noreturn]] void throw_unix_error(int err, const char* operation, const std::string& path) {
    throw std::system_error(err, std::generic_category(), std::string(operation) + " " + printable(path));
}

struct UnixAddress {
    sockaddr_un addr{};
    socklen_t len = 0;
};

UnixAddress make_address(const std::string& path, const char* caller) {
    UnixAddress a;
    a.addr.sun_family = AF_UNIX;
    if (path.empty()) throw std::invalid_argument(std::string(caller) + ": empty path");
    // A filesystem path needs room for its terminating NUL; an abstract name uses every byte.
    const std::size_t room = sizeof a.addr.sun_path - (is_abstract(path) ? 0 : 1);
    if (path.size() > room) {
        throw std::invalid_argument(std::string(caller) + ": path is " + std::to_string(path.size()) +
                                    " bytes, a Unix socket path holds at most " + std::to_string(room));
    }
    if (!is_abstract(path) && path.find('\0') != std::string::npos) {
        throw std::invalid_argument(std::string(caller) + ": path contains a NUL byte");
    }
    std::memcpy(a.addr.sun_path, path.data(), path.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (is_abstract(path) ? 0 : 1));
    return a;
}

int open_unix_socket(const char* operation, const std::string& path) {
    int fd = detail::sys::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_unix_error(errno, operation, path);
    return fd;
}

Coro<std::pair<Stream, Stream>> connect_unix(std::string path, std::optional<ssl::SSLContext> context,
                                             std::string server_hostname) {
    UnixAddress a = make_address(path, "open_unix_connection");
    int fd = open_unix_socket("connect", path);
    int r = detail::sys::connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    if (r != 0 && errno != EINPROGRESS) {
        // EAGAIN: the listener's backlog is full. Linux then leaves no connection in progress
        // to wait for, so it is an error here rather than a wait that would "succeed" unconnected.
        int err = errno;
        detail::sys::close(fd);
        throw_unix_error(err, "connect", path);
    }
    auto state = std::make_shared<detail::StreamState>(fd, Address{path, 0});  // owns fd from here
    if (r != 0) {
        co_await detail::WaitIo{state->io.writers};
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) throw_unix_error(err, "connect", path);
    }
    if (context) {
        state->tls = detail::make_tls_session(*context, state->io, false, server_hostname, printable(path));
        state->tls_shutdown_timeout = context->shutdown_timeout();
        co_await timeout(context->handshake_timeout(), detail::tls_handshake(state.get()));
    }
    co_return std::pair<Stream, Stream>{Stream(state), Stream(state)};
}

// CPython's start_unix_server: a socket file left by a previous run would make bind fail, so it
// is removed first; anything that is not a socket is left for bind to refuse.
void remove_stale_socket(const std::string& path) {
    if (is_abstract(path)) return;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
}

Coro<Server> listen_unix(ConnectionCallback callback, std::string path, int backlog,
                         std::optional<ssl::SSLContext> context) {
    if (!callback) throw std::invalid_argument("start_unix_server: empty callback");
    UnixAddress a = make_address(path, "start_unix_server");
    remove_stale_socket(path);
    int fd = open_unix_socket("bind", path);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0) {
        int err = errno;
        detail::sys::close(fd);
        throw_unix_error(err, "bind", path);
    }
    // From here the state owns the fd and the file: an error below closes and removes both.
    auto server = detail::make_unix_server_state(fd, printable(path), is_abstract(path) ? std::string() : path);
    if (::listen(fd, backlog) != 0) throw_unix_error(errno, "listen", path);
    co_return co_await detail::serve_listener(std::move(server), std::move(callback), std::move(context));
}

}  // namespace

Coro<std::pair<Stream, Stream>> open_unix_connection(std::string path) {
    return connect_unix(std::move(path), std::nullopt, {});
}

Coro<std::pair<Stream, Stream>> open_unix_connection(std::string path, ssl::SSLContext context,
                                                     std::string server_hostname) {
    if (context.protocol() != ssl::PROTOCOL_TLS_CLIENT) {
        throw std::invalid_argument("open_unix_connection needs a PROTOCOL_TLS_CLIENT context");
    }
    if (server_hostname.empty()) {
        throw std::invalid_argument("open_unix_connection: server_hostname is required with TLS (there is no host)");
    }
    return connect_unix(std::move(path), std::move(context), std::move(server_hostname));
}

Coro<Server> start_unix_server(ConnectionCallback callback, std::string path, int backlog) {
    return listen_unix(std::move(callback), std::move(path), backlog, std::nullopt);
}

Coro<Server> start_unix_server(ConnectionCallback callback, std::string path, int backlog, ssl::SSLContext context) {
    if (context.protocol() != ssl::PROTOCOL_TLS_SERVER) {
        throw std::invalid_argument("start_unix_server needs a PROTOCOL_TLS_SERVER context");
    }
    return listen_unix(std::move(callback), std::move(path), backlog, std::move(context));
}

}  // namespace asyncio
