// Endpoints, socket creation and network error text.
#include "net/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "io/sys.hpp"

namespace asyncio::detail {

namespace {

class ResolverCategory : public std::error_category {
public:
    const char* name() const noexcept override { return "resolver"; }
    std::string message(int code) const override { return ::gai_strerror(code); }
};

}  // namespace

const std::error_category& resolver_category() noexcept {
    static const ResolverCategory category;
    return category;
}

std::string host_port(const std::string& host, std::uint16_t port) {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

Address to_address(const sockaddr* sa, socklen_t len) noexcept {
    char text[INET6_ADDRSTRLEN] = "";
    Address a;
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        a.port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        a.port = ntohs(in6->sin6_port);
    } else if (sa->sa_family == AF_UNIX) {
        auto* un = reinterpret_cast<const sockaddr_un*>(sa);
        constexpr std::size_t path_offset = offsetof(sockaddr_un, sun_path);
        if (len != 0 && len <= path_offset) return a;  // unnamed (e.g. a connecting client)
        std::size_t n = 0;
        if (len == 0) {
            n = ::strnlen(un->sun_path, sizeof un->sun_path);
            if (n == 0 && un->sun_path[1] != '\0') n = 1 + ::strnlen(un->sun_path + 1, sizeof un->sun_path - 1);
        } else {
            std::size_t max = std::min<std::size_t>(sizeof un->sun_path, len - path_offset);
            n = un->sun_path[0] == '\0' ? max : ::strnlen(un->sun_path, max);  // abstract: every byte counts
        }
        try {
            a.host.assign(un->sun_path, n);
        } catch (...) {
        }
        return a;
    }
    a.host = text;
    return a;
}

void throw_net_error(int err, const char* operation, const std::string& host, std::uint16_t port) {
    throw std::system_error(err, std::generic_category(), std::string(operation) + " " + host_port(host, port));
}

int open_tcp_socket(int family, const char* operation, const std::string& host, std::uint16_t port) {
    int fd = sys::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) throw_net_error(errno, operation, host, port);
    return fd;
}

void set_nodelay(int fd) noexcept {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace asyncio::detail
