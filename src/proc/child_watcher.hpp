// ChildWatcher: the loop's children (create_subprocess_*), reaped as they exit.
//
// Each child has an "exit fd" watched by the loop's poller like any stream's fd (an IoHandle):
// its pidfd (pidfd_open), which becomes readable when the child exits; or, where the kernel
// lacks pidfd_open, the read end of a pipe whose write end a helper thread closes once
// waitid(WNOWAIT) saw the exit (the thread never reaps, so the pid cannot be reused under the
// loop's feet). No task waits on that fd: a LoopCallback is parked in the handle's readers queue
// instead, so the poller's ordinary wake-up runs ProcessState::on_exit on the loop, which reaps
// (waitid WNOHANG), records the return code, wakes wait()ers and drops the watcher's reference.
// The watcher owns a reference to every running child's state, so a dropped Process handle
// still gets its child reaped. Loop teardown kills (SIGKILL) and reaps what still runs.
//
// Loop thread only.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <optional>
#include <unordered_map>

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/event.hpp"
#include "io/io_handle.hpp"

namespace asyncio::detail {

class ChildWatcher;

struct ProcessState;

/// The callback parked in a child's exit handle; knows its state.
struct ExitCallback : LoopCallback {
    ExitCallback(Fn f, ProcessState* s) noexcept : LoopCallback(f), process(s) {}
    ProcessState* process;
};

struct ProcessState {
    ProcessState(pid_t child, int exit_fd, bool by_pidfd) noexcept
        : pid(child), uses_pidfd(by_pidfd), exit_callback(&on_exit, this) {
        exit_handle.fd = exit_fd;
    }
    ProcessState(const ProcessState&) = delete;
    ProcessState& operator=(const ProcessState&) = delete;

    pid_t pid;
    bool uses_pidfd;                ///< exit_handle.fd is a pidfd (else the fallback pipe)
    std::optional<int> returncode;  ///< set once reaped
    Event exited;                   ///< set once reaped
    IoHandle exit_handle;
    ExitCallback exit_callback;     ///< parked in exit_handle.readers while the child runs
    ChildWatcher* watcher = nullptr;

    static void on_exit(LoopCallback& cb) noexcept;
    /// Reaps without blocking; false if the child has not exited yet.
    bool try_reap() noexcept;
    /// Blocks until the child has exited, then reaps it (teardown, after SIGKILL).
    void reap_blocking() noexcept;
    void finish(int code) noexcept;
};

class ChildWatcher {
public:
    ChildWatcher() = default;
    ChildWatcher(const ChildWatcher&) = delete;
    ChildWatcher& operator=(const ChildWatcher&) = delete;
    ~ChildWatcher() { close_all(); }

    /// Starts watching a child just spawned (loop thread). Takes `state`'s exit fd; throws
    /// std::system_error if the poller refuses it (the caller then kills and reaps the child).
    void add(const std::shared_ptr<ProcessState>& state);
    /// Teardown: kills every child still running, reaps it and forgets it.
    void close_all() noexcept;
    /// on_exit: the child was reaped; drop the watcher's reference (may free `s`).
    void forget(ProcessState* s) noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return children_.size(); }

private:
    std::unordered_map<ProcessState*, std::shared_ptr<ProcessState>> children_;
};

/// An exit fd for `pid`: its pidfd, or (pidfd_open unavailable) the fallback pipe's read end
/// with its helper thread started. Sets `is_pidfd`. Throws std::system_error.
int open_exit_fd(pid_t pid, bool& is_pidfd);

/// Test seams (0 in every program): when set, pidfd_open fails with this errno (ENOSYS runs
/// the fallback), and the stdio pipe2 of create_subprocess_* fails with that one. An fd limit
/// (RLIMIT_NOFILE) would reach the same paths, but the sanitizers' runtimes need fds of their
/// own while the library throws.
inline std::atomic<int> g_pidfd_open_errno{0};
inline std::atomic<int> g_stdio_pipe_errno{0};

}  // namespace asyncio::detail
