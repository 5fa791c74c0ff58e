// The poller seam's run-time choice of back end (see poller.hpp).
#include "io/poller.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace asyncio::detail {

PollerBackend backend_from_environment() {
    const char* value = std::getenv("ASYNCIO_BACKEND");
    if (value == nullptr || *value == '\0' || std::strcmp(value, "epoll") == 0) return PollerBackend::Epoll;
    if (std::strcmp(value, "io_uring") == 0) return PollerBackend::IoUring;
    throw std::invalid_argument("ASYNCIO_BACKEND must be \"epoll\" or \"io_uring\", not \"" + std::string(value) + "\"");
}

Poller::Poller(PollerBackend wanted) {
    if (wanted == PollerBackend::IoUring) {
        try {
            uring_ = std::make_unique<UringPoller>();
            return;
        } catch (const std::system_error&) {
            // No io_uring here (old kernel, seccomp, kernel.io_uring_disabled, memlock limit):
            // epoll does the same job.
        }
    }
    epoll_.emplace();
}

}  // namespace asyncio::detail
