// EpollPoller: the Linux back end of the poller seam (see poller.hpp).
//
// Waits with epoll_pwait2, whose timeout is in nanoseconds, so a sleeping loop wakes within
// the kernel's timer slack (~50 us) of a deadline; where the kernel lacks it (ENOSYS) it falls
// back to epoll_wait with the timeout rounded UP to whole milliseconds (rounding down would
// spin). Cross-thread wake-ups go through a WakeupFd (an eventfd written only when a wake is
// not already pending), which keeps wake() async-signal-safe.
#pragma once

#include <sys/epoll.h>

#include <cstdint>

#include "io/wakeup_fd.hpp"

namespace asyncio::detail {

class EpollPoller {
public:
    /// Token reported for the internal wake-up eventfd; never handed to the caller.
    static constexpr std::uint64_t kWakeToken = ~std::uint64_t{0};

    EpollPoller();
    ~EpollPoller();
    EpollPoller(const EpollPoller&) = delete;
    EpollPoller& operator=(const EpollPoller&) = delete;

    /// Reports `fd` to wait() with `token` when one of `events` (EPOLLIN, EPOLLOUT, ...) holds.
    void watch(int fd, std::uint32_t events, std::uint64_t token);
    /// Changes the events or token of a watched fd.
    void rewatch(int fd, std::uint32_t events, std::uint64_t token);
    /// Stops reporting `fd`; harmless if it is already closed.
    void unwatch(int fd) noexcept;
    /// Number of fds watched (the wake-up eventfd excluded).
    [[nodiscard]] int watched() const noexcept { return watched_; }

    /// Blocks for at most `timeout_ns` (-1: no limit; 0: just poll) and calls
    /// `on_ready(token, events)` for every ready fd. Returns the number reported.
    template <class F>
    int wait(std::int64_t timeout_ns, F&& on_ready) {
        int n = wait_raw(timeout_ns);
        int reported = 0;
        for (int i = 0; i < n; ++i) {
            if (events_[i].data.u64 == kWakeToken) {
                wakeup_.drain();
                continue;
            }
            on_ready(events_[i].data.u64, events_[i].events);
            ++reported;
        }
        return reported;
    }

    /// Ends a blocked or the next wait() early. Safe from any thread and from a signal handler.
    void wake() noexcept { wakeup_.wake(); }

    /// In a child process after fork(): closes this process's copies of the epoll fd and the
    /// eventfd (the parent's epoll instance and its interest list are untouched). Later calls
    /// fail with EBADF; wake() does nothing.
    void forget_after_fork() noexcept;

private:
    static constexpr int kMaxEvents = 256;

    int wait_raw(std::int64_t timeout_ns);

    WakeupFd wakeup_;
    int epfd_ = -1;
    int watched_ = 0;
    bool have_pwait2_ = true;
    epoll_event events_[kMaxEvents];
};

}  // namespace asyncio::detail
