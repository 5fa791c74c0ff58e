// Test support: the process's open fds and threads, to prove that nothing leaked.
#pragma once

#include <dirent.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

namespace asyncio::testing {

/// Open file descriptors of this process.
inline int open_fd_count() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d)) {
            if (e->d_name[0] != '.') ++n;
        }
        ::closedir(d);
        --n;  // the directory's own fd
    }
    return n;
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
