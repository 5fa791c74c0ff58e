// open_fd: a Stream over an existing pipe, FIFO, tty or socket.
#include "asyncio/fd.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "io/sys.hpp"
#include "net/pipe_io.hpp"
#include "net/socket.hpp"
#include "net/stream_state.hpp"

namespace asyncio::detail {

ssize_t write_no_sigpipe(int fd, const void* data, std::size_t len) noexcept {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    // A SIGPIPE already pending (someone else's) must still be delivered: only consume ours.
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    ssize_t n = sys::write(fd, data, len);
    const int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
        // The kernel sends SIGPIPE to the writing thread; it is blocked here, so it waits pending.
        timespec zero{};
        while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return n;
}

}  // namespace asyncio::detail

namespace asyncio {

namespace {

[[noreturn]] void refuse(int fd, const std::string& why) {
    detail::sys::close(fd);
    throw std::invalid_argument("open_fd(" + std::to_string(fd) + "): " + why);
}

[[noreturn]] void fail(int fd, int err, const std::string& what) {
    if (err != EBADF) detail::sys::close(fd);
    throw std::system_error(err, std::generic_category(), "open_fd(" + std::to_string(fd) + "): " + what);
}

}  // namespace

Stream open_fd(int fd) {
    if (fd < 0) throw std::invalid_argument("open_fd: negative fd " + std::to_string(fd));
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail(fd, errno, "fstat");
    if (S_ISREG(st.st_mode)) refuse(fd, "a regular file cannot be watched by epoll (it is always ready); read it with blocking calls");
    if (S_ISDIR(st.st_mode)) refuse(fd, "a directory is not a stream");
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) fail(fd, errno, "making it non-blocking");
    ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);  // children must not inherit it
    const bool is_socket = S_ISSOCK(st.st_mode);
    Address peer;
    if (is_socket) {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            peer = detail::to_address(reinterpret_cast<sockaddr*>(&addr), len);
        }
    }
    std::shared_ptr<detail::StreamState> state;
    try {
        state = std::make_shared<detail::StreamState>(fd, peer, is_socket);  // closes fd on failure
    } catch (const std::system_error& e) {
        if (e.code().value() == EPERM) {
            throw std::system_error(EPERM, std::generic_category(),
                                    "open_fd(" + std::to_string(fd) + "): epoll cannot watch this kind of file");
        }
        throw;
    }
    return Stream(std::move(state));
}

}  // namespace asyncio
