// WakeupFd: the eventfd both poller back ends wait on so that another thread, or a signal
// handler, can end a blocked wait.
//
// Only the first wake() after a drain writes (libuv's uv_async_send pattern): a burst of
// wake-ups costs one system call, and wake() is an atomic exchange plus at most one write(),
// so it stays async-signal-safe. The back end watches fd() for EPOLLIN and calls drain() when
// it is reported.
#pragma once

#include <atomic>

namespace asyncio::detail {

class WakeupFd {
public:
    /// Creates the eventfd (non-blocking, close-on-exec); throws std::system_error.
    WakeupFd();
    ~WakeupFd();
    WakeupFd(const WakeupFd&) = delete;
    WakeupFd& operator=(const WakeupFd&) = delete;

    /// The eventfd to watch for EPOLLIN; -1 after forget_after_fork().
    [[nodiscard]] int fd() const noexcept { return fd_; }

    /// Makes fd() readable unless a wake-up is already pending. Any thread, signal handlers.
    void wake() noexcept;
    /// The owner's thread, once fd() was reported readable: consumes the pending wake-up.
    void drain() noexcept;
    /// In a child after fork(): closes this process's copy; later wake() calls do nothing.
    void forget_after_fork() noexcept;

private:
    int fd_ = -1;
    // true while a wake-up is written and not yet drained: later wake() calls skip the write.
    std::atomic<bool> pending_{false};
};

}  // namespace asyncio::detail
