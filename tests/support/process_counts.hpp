// Test support: the process's open fds and threads, to prove that nothing leaked.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace asyncio::testing {

/// Open file descriptors of this process, in directory order.
inline std::vector<int> open_fds() {
    std::vector<int> fds;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        const int own = ::dirfd(d);
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            int fd = std::atoi(e->d_name);
            if (fd != own) fds.push_back(fd);
        }
        ::closedir(d);
    }
    return fds;
}

/// Number of open file descriptors of this process.
inline int open_fd_count() { return static_cast<int>(open_fds().size()); }

/// Checks that a scope gives back every file descriptor it opened (declare it first).
class FdCount {
public:
    FdCount() : before_(open_fd_count()) {}
    ~FdCount() { EXPECT_EQ(open_fd_count(), before_) << "file descriptors leaked"; }
    FdCount(const FdCount&) = delete;
    FdCount& operator=(const FdCount&) = delete;

private:
    int before_;
};

/// What fd refers to: a path, "socket:[ino]", "anon_inode:[eventpoll]", ... ("" if closed).
inline std::string fd_target(int fd) {
    char buf[256];
    ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

/// Threads of this process (the "Threads:" line of /proc/self/status).
/// The first thread a process creates makes ThreadSanitizer start its own background thread,
/// so one thread is started and joined before the first count: baselines then include it.
inline int thread_count() {
    static const bool sanitizer_threads_started = [] {
        std::thread([] {}).join();
        return true;
    }();
    (void)sanitizer_threads_started;
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + std::strlen("Threads:"));
    }
    return -1;
}

}  // namespace asyncio::testing
