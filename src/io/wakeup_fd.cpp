// WakeupFd: one eventfd and a "wake-up pending" flag. See wakeup_fd.hpp.
#include "io/wakeup_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "core/system_error.hpp"
#include "io/sys.hpp"

namespace asyncio::detail {

WakeupFd::WakeupFd() {
    fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd_ < 0) throw_system_error(errno, "eventfd");
}

WakeupFd::~WakeupFd() {
    if (fd_ >= 0) sys::close(fd_);
}

void WakeupFd::wake() noexcept {
    if (pending_.exchange(true, std::memory_order_acq_rel)) return;
    // Raw write(), not the fault seam: this runs in signal handlers and on other threads.
    std::uint64_t one = 1;
    ssize_t r = ::write(fd_, &one, sizeof one);
    (void)r;  // EAGAIN: the counter is already non-zero, the loop wakes anyway; EBADF: forgotten
}

void WakeupFd::drain() noexcept {
    // Read first, then clear the flag with a read-modify-write: a wake() that finds the flag
    // still set happened before this exchange, so the loop (which looks at its queues and
    // flags after draining) sees what that wake() announced; a wake() after it writes again.
    std::uint64_t value;
    ssize_t r = ::read(fd_, &value, sizeof value);
    (void)r;
    pending_.exchange(false, std::memory_order_acq_rel);
}

void WakeupFd::forget_after_fork() noexcept {
    // Not sys::close: no fault injected here, and the number must be -1 afterwards whatever
    // close() says, so that a wake() never writes to an fd the child opens later.
    ::close(fd_);
    fd_ = -1;
}

}  // namespace asyncio::detail
