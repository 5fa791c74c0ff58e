// Helpers shared by the ports of CPython's Unix tests (signals, Unix sockets, low-level sockets).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "support/process_counts.hpp"

namespace asyncio::cpython {

/// The signal's current disposition: SIG_DFL, SIG_IGN or a handler.
inline void (*disposition(int sig))(int) {
    struct sigaction sa {};
    ::sigaction(sig, nullptr, &sa);
    return sa.sa_handler;
}

/// Checks at the end of a test that every file descriptor it opened was closed.
class FdCount {
public:
    FdCount() : before_(asyncio::testing::open_fd_count()) {}
    ~FdCount() { EXPECT_EQ(asyncio::testing::open_fd_count(), before_) << "file descriptors leaked"; }
    FdCount(const FdCount&) = delete;
    FdCount& operator=(const FdCount&) = delete;

private:
    int before_;
};

/// CPython's test_utils.unix_socket_path(): a fresh path, removed (if still there) at the end.
struct UnixSocketPath {
    std::string path;
    explicit UnixSocketPath(const char* tag)
        : path("/tmp/asyncio_cpython_" + std::to_string(::getpid()) + "_" + tag + ".sock") {
        ::unlink(path.c_str());
    }
    ~UnixSocketPath() { ::unlink(path.c_str()); }
    UnixSocketPath(const UnixSocketPath&) = delete;
    UnixSocketPath& operator=(const UnixSocketPath&) = delete;
};

inline bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

inline bool is_socket_file(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

/// A plain (blocking) Unix stream socket bound to `path`, as a test's own `socket.socket()`.
/// Returns the fd; the caller closes it.
inline int bind_plain_unix_socket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
    return fd;
}

}  // namespace asyncio::cpython
