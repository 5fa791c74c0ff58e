// The poller seam: the only way the core reaches the operating system's readiness API.
//
// A back end offers four things (libuv's back-end contract is the model):
//   watch(fd, events, token) / unwatch(fd)   start / stop reporting an fd's readiness
//   wait(timeout_ns, on_ready)               block until an fd is ready, wake() is called or
//                                            the timeout passes; report each ready fd once
//   wake()                                   end a wait() from any thread or a signal handler
// The loop calls wait() once per round at most, and only with a zero timeout while tasks are
// runnable and some fd is watched; when nothing is runnable it blocks until the next timer.
// Readiness is edge-triggered: an fd is reported when it becomes ready (EPOLLET semantics),
// with the union of its ready events, and not again until a new edge.
//
// Back ends: EpollPoller (the default) and UringPoller (multishot poll requests on an
// io_uring). Each loop picks one when it is created: ASYNCIO_BACKEND=epoll|io_uring in the
// environment (unset or empty: epoll); io_uring falls back to epoll when the kernel lacks or
// refuses it. The choice is a pointer test per call, not a virtual call, and wait()'s
// callback is inlined into both back ends.
#pragma once

#include <memory>
#include <optional>

#include "io/epoll_poller.hpp"
#include "io/uring_poller.hpp"

namespace asyncio::detail {

enum class PollerBackend : unsigned char { Epoll, IoUring };

/// The back end ASYNCIO_BACKEND asks for (Epoll when unset or empty). Throws
/// std::invalid_argument for any other value.
PollerBackend backend_from_environment();

class Poller {
public:
    /// The back end the environment asks for (see backend_from_environment()).
    Poller() : Poller(backend_from_environment()) {}
    /// `wanted`; IoUring falls back to Epoll if the kernel lacks or refuses io_uring.
    explicit Poller(PollerBackend wanted);

    /// The back end in use.
    [[nodiscard]] PollerBackend backend() const noexcept {
        return uring_ != nullptr ? PollerBackend::IoUring : PollerBackend::Epoll;
    }

    void watch(int fd, std::uint32_t events, std::uint64_t token) {
        if (uring_ != nullptr) return uring_->watch(fd, events, token);
        epoll_->watch(fd, events, token);
    }
    void rewatch(int fd, std::uint32_t events, std::uint64_t token) {
        if (uring_ != nullptr) return uring_->rewatch(fd, events, token);
        epoll_->rewatch(fd, events, token);
    }
    void unwatch(int fd) noexcept {
        if (uring_ != nullptr) return uring_->unwatch(fd);
        epoll_->unwatch(fd);
    }
    [[nodiscard]] int watched() const noexcept { return uring_ != nullptr ? uring_->watched() : epoll_->watched(); }
    template <class F>
    int wait(std::int64_t timeout_ns, F&& on_ready) {
        if (uring_ != nullptr) return uring_->wait(timeout_ns, on_ready);
        return epoll_->wait(timeout_ns, on_ready);
    }
    void wake() noexcept {
        if (uring_ != nullptr) return uring_->wake();
        epoll_->wake();
    }
    void forget_after_fork() noexcept {
        if (uring_ != nullptr) return uring_->forget_after_fork();
        epoll_->forget_after_fork();
    }

private:
    std::unique_ptr<UringPoller> uring_;  // set: io_uring is the back end
    std::optional<EpollPoller> epoll_;    // engaged otherwise
};

}  // namespace asyncio::detail
