// Test support: this process's children, to prove that no child is left running or a zombie.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <cerrno>

namespace asyncio::testing {

/// True when this process has no child at all, running or zombie (WNOWAIT: only looks).
inline bool no_children() {
    siginfo_t info{};
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

/// True once `pid` is no longer a child of ours: someone (the loop) has reaped it.
inline bool reaped(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

}  // namespace asyncio::testing
