// Test support: a connected pair of TCP sockets on loopback, and helpers that read the peer's
// end directly (so a test checks exactly what a Stream handed to the kernel).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

namespace asyncio::testing {

// A connected pair of TCP sockets on 127.0.0.1 (blocking; open_fd makes its end non-blocking).
// `small_buffers`: SO_SNDBUF/SO_RCVBUF of 16 KiB on both, so the kernel fills quickly.
inline std::pair<int, int> tcp_pair(bool small_buffers = false) {
    auto shrink = [&](int fd) {
        if (!small_buffers) return;
        int v = 16 * 1024;
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    };
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    shrink(listener);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::system_error(errno, std::generic_category(), "listener");
    }
    int a = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    shrink(a);
    if (::connect(a, reinterpret_cast<sockaddr*>(&addr), len) != 0) throw std::system_error(errno, std::generic_category(), "connect");
    int b = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(listener);
    int one = 1;
    ::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return {a, b};
}

// Everything the peer socket has received so far (non-blocking).
inline std::string take_available(int fd) {
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// Reads exactly `n` bytes from the peer socket (blocking; only once they were handed over).
inline std::string take_exactly(int fd, std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
        if (r <= 0) throw std::system_error(errno, std::generic_category(), "peer recv");
        got += static_cast<std::size_t>(r);
    }
    return out;
}

inline std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (char& c : s) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 16);
    }
    return s;
}

}  // namespace asyncio::testing
