// EpollPoller: epoll + a WakeupFd for cross-thread wake-ups. See epoll_poller.hpp.
#include "io/epoll_poller.hpp"

#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "core/system_error.hpp"
#include "io/sys.hpp"

namespace asyncio::detail {

EpollPoller::EpollPoller() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw_system_error(errno, "epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeToken;
    if (sys::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakeup_.fd(), &ev) != 0) {
        int err = errno;
        sys::close(epfd_);
        throw_system_error(err, "epoll_ctl(ADD eventfd)");
    }
}

EpollPoller::~EpollPoller() { sys::close(epfd_); }

void EpollPoller::watch(int fd, std::uint32_t events, std::uint64_t token) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (sys::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) throw_system_error(errno, "epoll_ctl(ADD)");
    ++watched_;
}

void EpollPoller::rewatch(int fd, std::uint32_t events, std::uint64_t token) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (sys::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) throw_system_error(errno, "epoll_ctl(MOD)");
}

void EpollPoller::unwatch(int fd) noexcept {
    if (sys::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr) == 0) --watched_;
}

int EpollPoller::wait_raw(std::int64_t timeout_ns) {
    for (;;) {
        int n;
        if (have_pwait2_) {
            timespec ts{};
            timespec* tsp = nullptr;
            if (timeout_ns >= 0) {
                ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
                ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
                tsp = &ts;
            }
            n = sys::epoll_pwait2(epfd_, events_, kMaxEvents, tsp);
            if (n < 0 && errno == ENOSYS) {
                have_pwait2_ = false;
                continue;
            }
        } else {
            // Round up: truncating 0.4 ms to 0 would spin until the deadline.
            int ms = -1;
            if (timeout_ns >= 0) {
                std::int64_t up = (timeout_ns + 999'999) / 1'000'000;
                ms = up > 0x7fffffff ? 0x7fffffff : static_cast<int>(up);
            }
            n = sys::epoll_wait(epfd_, events_, kMaxEvents, ms);
        }
        if (n >= 0) return n;
        if (errno == EINTR) return 0;  // a signal: let the loop look at its queues again
        throw_system_error(errno, "epoll_wait");
    }
}

void EpollPoller::forget_after_fork() noexcept {
    // Not sys::close: no fault injected here, and the numbers must be -1 afterwards whatever
    // close() says, so that a wake() never writes to an fd the child opens later.
    wakeup_.forget_after_fork();
    ::close(epfd_);
    epfd_ = -1;
    watched_ = 0;
}

}  // namespace asyncio::detail
