// Test hooks of the network code: a few call sites a test can make fail or slow down, to reach
// paths that a healthy loopback never takes (a failed accept4 or epoll_ctl, an EINTR inside
// OpenSSL's reads, a slow name lookup). Tests only: unset (null) in every program, which costs
// one relaxed load at each site. The process-wide syscall fault seam supersedes these where it
// covers the same calls.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>

namespace asyncio::detail::test_hooks {

/// Replaces accept4() in the server's accept loop.
inline std::atomic<int (*)(int fd, sockaddr* addr, socklen_t* len, int flags)> accept4{nullptr};
/// Called with every new stream's socket (accepted or connected) before it is registered with
/// epoll; a non-zero errno makes the registration fail as epoll_ctl(ADD) would.
inline std::atomic<int (*)(int fd)> watch_stream{nullptr};
/// Replaces recv() in the TLS socket BIO.
inline std::atomic<ssize_t (*)(int fd, void* buf, std::size_t len, int flags)> tls_recv{nullptr};
/// Called on the resolver's helper thread before getaddrinfo() (a test makes it slow).
inline std::atomic<void (*)()> before_resolve{nullptr};

}  // namespace asyncio::detail::test_hooks
