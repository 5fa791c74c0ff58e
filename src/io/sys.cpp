// The system-call seam's faulting paths (see sys.hpp). Only reached while a test has armed a
// hook; everything here is serialized by one mutex, which is fine for tests.
#include "io/sys.hpp"

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace asyncio::detail::sys {

std::atomic<bool> g_faults_armed{false};

namespace {
std::atomic<void (*)()> g_before_name_lookup{nullptr};
}  // namespace

void set_before_name_lookup(void (*f)()) noexcept { g_before_name_lookup.store(f, std::memory_order_relaxed); }

void before_name_lookup() noexcept {
    if (auto f = g_before_name_lookup.load(std::memory_order_relaxed)) f();
}

namespace {

struct Tracked {
    int epfd = -1;
    std::uint64_t token = 0;
};

struct Owed {
    int fd;
    std::uint32_t events;
};

struct SeamState {
    std::mutex mutex;
    Hook hook = nullptr;
    void* context = nullptr;
    std::unordered_map<int, Tracked> tracked;  // fds registered with epoll while armed
    std::vector<Owed> owed;                    // edges to report at the next poll
};

SeamState& state() {
    static SeamState s;  // never destroyed before a test's last call: function-local static
    return s;
}

// The hook's decision for a call on `fd`; `need_tracked`: only for fds whose edges the seam
// can owe (anything else passes).
Decision decide(Call call, int fd, std::size_t size, int op, bool need_tracked) {
    SeamState& s = state();
    std::lock_guard lock(s.mutex);
    if (s.hook == nullptr) return {};
    if (need_tracked && s.tracked.find(fd) == s.tracked.end()) return {};
    return s.hook(s.context, call, fd, size, op);
}

void owe(int fd, std::uint32_t events) {
    SeamState& s = state();
    std::lock_guard lock(s.mutex);
    s.owed.push_back({fd, events});
}

void forget(int fd) {
    SeamState& s = state();
    std::lock_guard lock(s.mutex);
    s.tracked.erase(fd);
    std::erase_if(s.owed, [fd](const Owed& o) { return o.fd == fd; });
}

// An injected reset is real from here on: later calls and the peer see the connection gone.
ssize_t fail_reset(int fd, int err) {
    ::shutdown(fd, SHUT_RDWR);
    errno = err;
    return -1;
}

}  // namespace

void set_fault_hook(Hook hook, void* context) noexcept {
    SeamState& s = state();
    std::lock_guard lock(s.mutex);
    s.hook = hook;
    s.context = context;
    s.tracked.clear();
    s.owed.clear();
    g_faults_armed.store(hook != nullptr, std::memory_order_relaxed);
}

namespace {
std::atomic<const void*> g_last_send_buffer{nullptr};
std::atomic<const void*> g_last_recv_buffer{nullptr};
}  // namespace

const void* last_send_buffer() noexcept { return g_last_send_buffer.load(std::memory_order_relaxed); }
const void* last_recv_buffer() noexcept { return g_last_recv_buffer.load(std::memory_order_relaxed); }

ssize_t faulty_recv(int fd, void* buf, std::size_t len, int flags) noexcept {
    g_last_recv_buffer.store(buf, std::memory_order_relaxed);
    Decision d = decide(Call::Recv, fd, len, 0, true);
    if (d.kind == Decision::Fail) {
        if (d.error == ECONNRESET || d.error == EPIPE) return fail_reset(fd, d.error);
        owe(fd, EPOLLIN);
        errno = d.error;
        return -1;
    }
    if (d.kind == Decision::Short && d.max < len) {
        ssize_t n = ::recv(fd, buf, std::max<std::size_t>(d.max, 1), flags);
        if (n > 0) owe(fd, EPOLLIN);  // the rest (if any) is announced as a fresh edge
        return n;
    }
    return ::recv(fd, buf, len, flags);
}

ssize_t faulty_send(int fd, const void* buf, std::size_t len, int flags) noexcept {
    g_last_send_buffer.store(buf, std::memory_order_relaxed);
    Decision d = decide(Call::Send, fd, len, 0, true);
    if (d.kind == Decision::Fail) {
        if (d.error == ECONNRESET || d.error == EPIPE) return fail_reset(fd, d.error);
        owe(fd, EPOLLOUT);
        errno = d.error;
        return -1;
    }
    if (d.kind == Decision::Short && d.max < len) {
        ssize_t n = ::send(fd, buf, std::max<std::size_t>(d.max, 1), flags);
        if (n > 0) owe(fd, EPOLLOUT);
        return n;
    }
    return ::send(fd, buf, len, flags);
}


ssize_t faulty_sendmsg(int fd, const msghdr* msg, int flags) noexcept {
    g_last_send_buffer.store(msg->msg_iovlen > 0 ? msg->msg_iov[0].iov_base : nullptr, std::memory_order_relaxed);
    std::size_t total = 0;
    for (std::size_t i = 0; i < msg->msg_iovlen; ++i) total += msg->msg_iov[i].iov_len;
    Decision d = decide(Call::Send, fd, total, 0, true);
    if (d.kind == Decision::Fail) {
        if (d.error == ECONNRESET || d.error == EPIPE) return fail_reset(fd, d.error);
        owe(fd, EPOLLOUT);
        errno = d.error;
        return -1;
    }
    if (d.kind == Decision::Short && d.max < total) {
        // The same buffers cut after `max` bytes (at least one).
        std::vector<iovec> cut;
        std::size_t left = std::max<std::size_t>(d.max, 1);
        for (std::size_t i = 0; i < msg->msg_iovlen && left > 0; ++i) {
            std::size_t take = std::min(left, msg->msg_iov[i].iov_len);
            if (take == 0) continue;
            cut.push_back({msg->msg_iov[i].iov_base, take});
            left -= take;
        }
        msghdr shorter = *msg;
        shorter.msg_iov = cut.data();
        shorter.msg_iovlen = cut.size();
        ssize_t n = ::sendmsg(fd, &shorter, flags);
        if (n > 0) owe(fd, EPOLLOUT);
        return n;
    }
    return ::sendmsg(fd, msg, flags);
}

// read/write: the recv/send rules without the socket-only ones (no shutdown on a reset).
ssize_t faulty_read(int fd, void* buf, std::size_t len) noexcept {
    Decision d = decide(Call::Read, fd, len, 0, true);
    if (d.kind == Decision::Fail) {
        if (d.error == EINTR || d.error == EAGAIN) owe(fd, EPOLLIN);
        errno = d.error;
        return -1;
    }
    if (d.kind == Decision::Short && d.max < len) {
        ssize_t n = ::read(fd, buf, std::max<std::size_t>(d.max, 1));
        if (n > 0) owe(fd, EPOLLIN);
        return n;
    }
    return ::read(fd, buf, len);
}

ssize_t faulty_write(int fd, const void* buf, std::size_t len) noexcept {
    Decision d = decide(Call::Write, fd, len, 0, true);
    if (d.kind == Decision::Fail) {
        if (d.error == EINTR || d.error == EAGAIN) owe(fd, EPOLLOUT);
        errno = d.error;
        return -1;
    }
    if (d.kind == Decision::Short && d.max < len) {
        ssize_t n = ::write(fd, buf, std::max<std::size_t>(d.max, 1));
        if (n > 0) owe(fd, EPOLLOUT);
        return n;
    }
    return ::write(fd, buf, len);
}

// Datagrams: whole or nothing, so Short passes. A failed call hid nothing: the datagrams
// queued (or the buffer space) are still there, so the edge is owed whatever the error.
ssize_t faulty_recvfrom(int fd, void* buf, std::size_t len, int flags, sockaddr* from, socklen_t* from_len) noexcept {
    Decision d = decide(Call::RecvFrom, fd, len, 0, true);
    if (d.kind == Decision::Fail) {
        owe(fd, EPOLLIN);
        errno = d.error;
        return -1;
    }
    return ::recvfrom(fd, buf, len, flags, from, from_len);
}

ssize_t faulty_sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* to, socklen_t to_len) noexcept {
    Decision d = decide(Call::SendTo, fd, len, 0, true);
    if (d.kind == Decision::Fail) {
        owe(fd, EPOLLOUT);
        errno = d.error;
        return -1;
    }
    return ::sendto(fd, buf, len, flags, to, to_len);
}

int faulty_accept4(int fd, sockaddr* addr, socklen_t* len, int flags) noexcept {
    Decision d = decide(Call::Accept, fd, 0, 0, true);
    if (d.kind == Decision::Fail) {
        owe(fd, EPOLLIN);  // the connection it hid is still queued
        errno = d.error;
        return -1;
    }
    return ::accept4(fd, addr, len, flags);
}

int faulty_connect(int fd, const sockaddr* addr, socklen_t len) noexcept {
    Decision d = decide(Call::Connect, fd, 0, 0, false);
    if (d.kind == Decision::Fail) {
        errno = d.error;
        return -1;
    }
    return ::connect(fd, addr, len);
}

int faulty_socket(int domain, int type, int protocol) noexcept {
    Decision d = decide(Call::Socket, -1, 0, 0, false);
    if (d.kind == Decision::Fail) {
        errno = d.error;
        return -1;
    }
    return ::socket(domain, type, protocol);
}

int faulty_epoll_ctl(int epfd, int op, int fd, epoll_event* ev) noexcept {
    Decision d = decide(Call::EpollCtl, fd, 0, op, false);
    if (d.kind == Decision::Fail) {
        errno = d.error;
        return -1;
    }
    int r = ::epoll_ctl(epfd, op, fd, ev);
    if (r == 0) {
        if (op == EPOLL_CTL_DEL) {
            forget(fd);
        } else {
            SeamState& s = state();
            std::lock_guard lock(s.mutex);
            s.tracked[fd] = Tracked{epfd, ev->data.u64};
        }
    }
    return r;
}

int faulty_epoll_wait(int epfd, epoll_event* events, int max, const timespec* timeout, bool pwait2) noexcept {
    Decision d = decide(Call::EpollWait, epfd, 0, 0, false);
    if (d.kind == Decision::Fail) {
        errno = d.error;
        return -1;
    }
    bool owing = false;
    {
        SeamState& s = state();
        std::lock_guard lock(s.mutex);
        for (const Owed& o : s.owed) {
            auto it = s.tracked.find(o.fd);
            if (it != s.tracked.end() && it->second.epfd == epfd) owing = true;
        }
    }
    timespec zero{};
    if (owing) timeout = &zero;  // owed edges are ready now
    int n;
    if (pwait2) {
        n = ::epoll_pwait2(epfd, events, max, timeout, nullptr);
    } else {
        int ms = timeout == nullptr ? -1 : static_cast<int>(timeout->tv_sec * 1000 + timeout->tv_nsec / 1'000'000);
        n = ::epoll_wait(epfd, events, max, ms);
    }
    if (n < 0) return n;
    SeamState& s = state();
    std::lock_guard lock(s.mutex);
    std::vector<Owed> keep;
    for (const Owed& o : s.owed) {
        auto it = s.tracked.find(o.fd);
        if (it == s.tracked.end()) continue;  // unwatched since: nobody waits for it
        if (it->second.epfd != epfd || n == max) {
            keep.push_back(o);
            continue;
        }
        epoll_event ev{};
        ev.events = o.events;
        ev.data.u64 = it->second.token;
        events[n++] = ev;
    }
    s.owed = std::move(keep);
    return n;
}

int faulty_close(int fd) noexcept {
    forget(fd);  // before the number can be reused
    int r = ::close(fd);
    Decision d = decide(Call::Close, fd, 0, 0, false);
    if (r == 0 && d.kind == Decision::Fail) {
        errno = d.error;  // Linux frees the fd even when close reports EINTR
        return -1;
    }
    return r;
}

int faulty_getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) noexcept {
    Decision d = decide(Call::Getaddrinfo, -1, 0, 0, false);
    if (d.kind == Decision::Fail) {
        if (d.error == EAI_SYSTEM) errno = d.sys_errno;
        return d.error;
    }
    return ::getaddrinfo(node, service, hints, res);
}

}  // namespace asyncio::detail::sys
