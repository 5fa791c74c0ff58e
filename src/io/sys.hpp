// The system-call seam: every call the library makes to the kernel for sockets, pipes and other
// fds (open_fd), datagrams, readiness and name lookups goes through these wrappers (OpenSSL's
// socket BIO too), so a test can make any of them fail or come back short, reproducibly
// (tests/support/faults.hpp arms a seeded plan).
//
// Cost when no test arms it: one relaxed load of a global flag and a branch predicted not
// taken before the real call (bench W6 measures the same as calling libc directly).
//
// When armed, a hook decides per call: pass, fail with an errno (EAI_* for getaddrinfo), or
// (recv/send) move fewer bytes. The seam keeps the kernel's contract so that only the
// library's handling is under test, never an impossible kernel:
//   - a recv/send/read/write/recvfrom/sendto/accept4 made to fail with EINTR/EAGAIN (or
//     ECONNREFUSED, a datagram socket's pending ICMP error) or come back short "owes" its fd an
//     edge: the next poll reports that direction ready again, as the kernel would once the
//     data or space it hid is seen (edge-triggered epoll would otherwise never report it);
//   - recvfrom/sendto never come back short (a datagram moves whole or not at all);
//   - ECONNRESET/EPIPE really shut a socket down (recv/send), so later calls and the peer see
//     it too;
//   - close() closes the fd before an injected EINTR (Linux: the fd is gone either way).
// Faults apply only to fds registered with epoll while the plan was armed (the seam learns
// their epoll tokens from epoll_ctl), plus connect/socket/getaddrinfo/epoll_ctl themselves.
#pragma once

#include <netdb.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace asyncio::detail::sys {

/// The calls the seam can fault.
enum class Call : std::uint8_t {
    Recv, Send, Accept, Connect, Socket, EpollCtl, EpollWait, Close, Getaddrinfo,
    Read, Write,        // fds that are not sockets (pipes, FIFOs, ttys: open_fd)
    RecvFrom, SendTo,   // datagram sockets
};
inline constexpr int kCallCount = 13;

/// What the hook wants done with one call.
struct Decision {
    enum Kind : std::uint8_t { Pass, Fail, Short } kind = Pass;
    int error = 0;        // Fail: the errno (getaddrinfo: the EAI_* code; EAI_SYSTEM uses `sys_errno`)
    int sys_errno = 0;    // Fail of getaddrinfo with EAI_SYSTEM: the errno it leaves
    std::size_t max = 0;  // Short: at most this many bytes (>= 1)
};

/// Consulted for every faultable call while armed; `size` is the byte count of recv/send (0
/// otherwise), `op` the epoll_ctl operation (0 otherwise). Called from the thread making the
/// call (getaddrinfo: the resolver's helper thread), under the seam's lock.
using Hook = Decision (*)(void* context, Call call, int fd, std::size_t size, int op);

/// Arms (hook != nullptr) or disarms the seam for the whole process. Disarming forgets every
/// tracked fd and owed edge. Not for production use: tests only.
void set_fault_hook(Hook hook, void* context) noexcept;

extern std::atomic<bool> g_faults_armed;

/// Tests only: the (first) buffer of the last send/sendmsg made while the seam was armed (so a
/// test can see that a write's own storage was sent, not a copy), or null.
const void* last_send_buffer() noexcept;
/// Tests only: the buffer of the last recv made while the seam was armed (so a test can see
/// where received bytes were put), or null.
const void* last_recv_buffer() noexcept;

/// Tests only: `f` runs on the resolver's helper thread before each lookup of a host NAME (a
/// numeric address is converted on the loop's thread and skips it), outside the seam's lock, so
/// it may block: a test makes name lookups slow with it. Null: none. Independent of the fault
/// hook. The resolver calls before_name_lookup().
void set_before_name_lookup(void (*f)()) noexcept;
void before_name_lookup() noexcept;

// --- the faulting paths (out of line, only reached while armed) ------------------------------
ssize_t faulty_recv(int fd, void* buf, std::size_t len, int flags) noexcept;
ssize_t faulty_send(int fd, const void* buf, std::size_t len, int flags) noexcept;
ssize_t faulty_sendmsg(int fd, const msghdr* msg, int flags) noexcept;
ssize_t faulty_read(int fd, void* buf, std::size_t len) noexcept;
ssize_t faulty_write(int fd, const void* buf, std::size_t len) noexcept;
ssize_t faulty_recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* from, socklen_t* from_len) noexcept;
ssize_t faulty_sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* to, socklen_t to_len) noexcept;
int faulty_accept4(int fd, sockaddr* addr, socklen_t* len, int flags) noexcept;
int faulty_connect(int fd, const sockaddr* addr, socklen_t len) noexcept;
int faulty_socket(int domain, int type, int protocol) noexcept;
int faulty_epoll_ctl(int epfd, int op, int fd, epoll_event* ev) noexcept;
int faulty_epoll_wait(int epfd, epoll_event* events, int max, const timespec* timeout, bool pwait2) noexcept;
int faulty_close(int fd) noexcept;
int faulty_getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) noexcept;

inline bool armed() noexcept { return __builtin_expect(g_faults_armed.load(std::memory_order_relaxed), 0); }

// --- the wrappers the library calls ----------------------------------------------------------
inline ssize_t recv(int fd, void* buf, std::size_t len, int flags) noexcept {
    if (armed()) return faulty_recv(fd, buf, len, flags);
    return ::recv(fd, buf, len, flags);
}
inline ssize_t send(int fd, const void* buf, std::size_t len, int flags) noexcept {
    if (armed()) return faulty_send(fd, buf, len, flags);
    return ::send(fd, buf, len, flags);
}
/// sendmsg of a connected stream socket's gathered buffers (the stream's coalesced flush). The
/// seam treats it as a Send (`size`: the total byte count): a Short decision sends a prefix.
inline ssize_t sendmsg(int fd, const msghdr* msg, int flags) noexcept {
    if (armed()) return faulty_sendmsg(fd, msg, flags);
    return ::sendmsg(fd, msg, flags);
}
inline ssize_t read(int fd, void* buf, std::size_t len) noexcept {
    if (armed()) return faulty_read(fd, buf, len);
    return ::read(fd, buf, len);
}
inline ssize_t write(int fd, const void* buf, std::size_t len) noexcept {
    if (armed()) return faulty_write(fd, buf, len);
    return ::write(fd, buf, len);
}
inline ssize_t recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* from, socklen_t* from_len) noexcept {
    if (armed()) return faulty_recvfrom(fd, buf, len, flags, from, from_len);
    return ::recvfrom(fd, buf, len, flags, from, from_len);
}
/// sendto; `to` null: the connected peer (send).
inline ssize_t sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* to, socklen_t to_len) noexcept {
    if (armed()) return faulty_sendto(fd, buf, len, flags, to, to_len);
    return ::sendto(fd, buf, len, flags, to, to_len);
}
inline int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) noexcept {
    if (armed()) return faulty_accept4(fd, addr, len, flags);
    return ::accept4(fd, addr, len, flags);
}
inline int connect(int fd, const sockaddr* addr, socklen_t len) noexcept {
    if (armed()) return faulty_connect(fd, addr, len);
    return ::connect(fd, addr, len);
}
inline int socket(int domain, int type, int protocol) noexcept {
    if (armed()) return faulty_socket(domain, type, protocol);
    return ::socket(domain, type, protocol);
}
inline int epoll_ctl(int epfd, int op, int fd, epoll_event* ev) noexcept {
    if (armed()) return faulty_epoll_ctl(epfd, op, fd, ev);
    return ::epoll_ctl(epfd, op, fd, ev);
}
inline int epoll_pwait2(int epfd, epoll_event* events, int max, const timespec* timeout) noexcept {
    if (armed()) return faulty_epoll_wait(epfd, events, max, timeout, true);
    return ::epoll_pwait2(epfd, events, max, timeout, nullptr);
}
/// epoll_wait, for kernels without epoll_pwait2 (timeout in ms, -1: none).
inline int epoll_wait(int epfd, epoll_event* events, int max, int timeout_ms) noexcept {
    if (armed()) {
        timespec ts{timeout_ms / 1000, static_cast<long>(timeout_ms % 1000) * 1'000'000};
        return faulty_epoll_wait(epfd, events, max, timeout_ms < 0 ? nullptr : &ts, false);
    }
    return ::epoll_wait(epfd, events, max, timeout_ms);
}
inline int close(int fd) noexcept {
    if (armed()) return faulty_close(fd);
    return ::close(fd);
}
inline int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) noexcept {
    if (armed()) return faulty_getaddrinfo(node, service, hints, res);
    return ::getaddrinfo(node, service, hints, res);
}

}  // namespace asyncio::detail::sys
