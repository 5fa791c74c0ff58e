// Endpoints, socket creation and network error text.
#include "net/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
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

Address to_address(const sockaddr* sa) noexcept {
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
