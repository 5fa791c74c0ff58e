// Reads and writes for streams over non-socket fds (pipes, FIFOs, ttys): open_fd.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace asyncio::detail {

/// write(2) that never raises SIGPIPE: SIGPIPE is blocked on this thread for the call, and a
/// SIGPIPE the call itself generated (EPIPE) is consumed before the mask is restored. errno is
/// write's.
ssize_t write_no_sigpipe(int fd, const void* data, std::size_t len) noexcept;

}  // namespace asyncio::detail
