// ChildWatcher: pidfds on the loop's poller, the fallback thread, reaping (see child_watcher.hpp).
#include "proc/child_watcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <thread>

#include "core/system_error.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace asyncio::detail {

namespace {

int pidfd_open(pid_t pid) noexcept {
    if (int injected = g_pidfd_open_errno.load(std::memory_order_relaxed); injected != 0) {
        errno = injected;
        return -1;
    }
#ifdef SYS_pidfd_open
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    errno = ENOSYS;
    return -1;
#endif
}

/// The status waitid reported, as Python's returncode: the exit code, or -signal.
int returncode_of(const siginfo_t& info) noexcept {
    if (info.si_code == CLD_EXITED) return info.si_status;
    return -info.si_status;  // CLD_KILLED, CLD_DUMPED
}

/// Kernels without pidfd_open: a thread waits for the exit without reaping (WNOWAIT keeps the
/// zombie, so the pid stays ours), then closes the pipe's write end, which wakes the loop.
int start_exit_thread(pid_t pid) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) throw_system_error(errno, "pipe2 (child exit notification)");
    const int write_end = p[1];
    try {
        std::thread([pid, write_end] {
            siginfo_t info{};
            while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
            }
            ::close(write_end);  // closing never raises SIGPIPE; the read end sees the hang-up
        }).detach();
    } catch (const std::system_error&) {
        ::close(p[0]);
        ::close(p[1]);
        throw;
    }
    return p[0];
}

}  // namespace

int open_exit_fd(pid_t pid, bool& is_pidfd) {
    int fd = pidfd_open(pid);
    if (fd >= 0) {
        is_pidfd = true;
        return fd;
    }
    if (errno != ENOSYS) throw_system_error(errno, "pidfd_open(" + std::to_string(pid) + ")");
    is_pidfd = false;
    return start_exit_thread(pid);
}

// ---- ProcessState ----------------------------------------------------------------------------

bool ProcessState::try_reap() noexcept {
    siginfo_t info{};
    int r;
    do {
        r = uses_pidfd ? ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(exit_handle.fd), &info,
                                  WEXITED | WNOHANG)
                       : ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        // ECHILD: someone else (waitpid(-1) elsewhere in the program) reaped it. The status is
        // lost; CPython reports 255 then.
        finish(255);
        return true;
    }
    if (info.si_pid == 0) return false;  // still running
    finish(returncode_of(info));
    return true;
}

void ProcessState::reap_blocking() noexcept {
    if (!uses_pidfd) {
        // Let the helper thread see the exit first: reaping under its waitid would free the pid
        // for reuse while it still waits on that number.
        pollfd p{exit_handle.fd, POLLIN, 0};
        while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
        }
    }
    siginfo_t info{};
    int r;
    do {
        r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
    } while (r != 0 && errno == EINTR);
    finish(r == 0 ? returncode_of(info) : 255);
}

void ProcessState::finish(int code) noexcept {
    returncode = code;
    io_unwatch(exit_handle);  // nothing waits in it any more: on_exit's callback was popped
    ::close(exit_handle.fd);
    exit_handle.fd = -1;
    exited.set();
}

void ProcessState::on_exit(LoopCallback& cb) noexcept {
    ProcessState* self = static_cast<ExitCallback&>(cb).process;
    if (!self->try_reap()) {
        // Woken without an exit (cannot happen with a pidfd; kept for safety): wait again.
        cb.state = TaskState::Waiting;
        cb.wait_target = &self->exit_handle.readers;
        self->exit_handle.readers.push_back(&cb);
        return;
    }
    if (self->watcher != nullptr) self->watcher->forget(self);  // may free self
}

// ---- ChildWatcher ----------------------------------------------------------------------------

void ChildWatcher::add(const std::shared_ptr<ProcessState>& state) {
    io_watch(state->exit_handle);  // throws if epoll refuses
    LoopCallback& cb = state->exit_callback;
    cb.state = TaskState::Waiting;
    cb.wait_target = &state->exit_handle.readers;
    state->exit_handle.readers.push_back(&cb);
    state->watcher = this;
    children_.emplace(state.get(), state);
}

void ChildWatcher::forget(ProcessState* s) noexcept {
    s->watcher = nullptr;
    auto node = children_.extract(s);  // the last reference may go with `node`
}

void ChildWatcher::close_all() noexcept {
    while (!children_.empty()) {
        auto node = children_.extract(children_.begin());
        ProcessState& s = *node.mapped();
        s.watcher = nullptr;
        LoopCallback& cb = s.exit_callback;
        // Parked: unlink it. Queued to run (the exit was seen this round): teardown has
        // already dropped the run queue, so the callback will never run.
        if (cb.state == TaskState::Waiting) s.exit_handle.readers.remove(&cb);
        cb.state = TaskState::Done;
        if (s.returncode) continue;
        ::kill(s.pid, SIGKILL);  // not reaped yet, so the pid is still this child's
        s.reap_blocking();
    }
}

}  // namespace asyncio::detail
