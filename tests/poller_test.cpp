// The poller seam (src/io/poller.hpp) and its two back ends, epoll and io_uring: every test
// runs on both and asserts the same readiness reports, which is what lets the loop run on
// either without a difference a program can see. Plus: which back end a loop really uses, and
// the fallback to epoll where io_uring is refused.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "asyncio/loop.hpp"
#include "io/poller.hpp"

namespace {

using asyncio::detail::Poller;
using asyncio::detail::PollerBackend;

constexpr std::uint32_t kStreamEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;  // what the loop asks
constexpr std::int64_t kLong = 5'000'000'000;  // 5 s: only a broken back end waits that long

bool io_uring_available() {
    try {
        asyncio::detail::UringPoller probe;
        return true;
    } catch (const std::system_error&) {
        return false;
    }
}

struct Report {
    std::uint64_t token;
    std::uint32_t events;
};

std::vector<Report> wait_reports(Poller& p, std::int64_t timeout_ns) {
    std::vector<Report> out;
    int n = p.wait(timeout_ns, [&](std::uint64_t token, std::uint32_t events) { out.push_back({token, events}); });
    EXPECT_EQ(n, static_cast<int>(out.size()));
    return out;
}

struct SocketPair {
    int a = -1, b = -1;
    SocketPair() {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) throw std::runtime_error("socketpair");
        a = sv[0];
        b = sv[1];
    }
    ~SocketPair() {
        if (a >= 0) ::close(a);
        if (b >= 0) ::close(b);
    }
};

void put(int fd, const char* text) { ASSERT_EQ(::write(fd, text, std::strlen(text)), static_cast<ssize_t>(std::strlen(text))); }

class PollerTest : public ::testing::TestWithParam<PollerBackend> {
protected:
    void SetUp() override {
        if (GetParam() == PollerBackend::IoUring && !io_uring_available()) {
            // Only where the kernel refuses io_uring; the Fallback tests cover that case.
            GTEST_SKIP() << "io_uring unavailable on this kernel";
        }
    }
    Poller poller{GetParam()};
};

TEST_P(PollerTest, UsesTheBackEndAskedFor) { EXPECT_EQ(poller.backend(), GetParam()); }

TEST_P(PollerTest, NewSocketIsReportedWritableOnceThenNotAgain) {
    SocketPair s;
    poller.watch(s.a, kStreamEvents, 7);
    EXPECT_EQ(poller.watched(), 1);
    auto first = wait_reports(poller, kLong);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].token, 7u);
    EXPECT_NE(first[0].events & EPOLLOUT, 0u);
    EXPECT_EQ(first[0].events & EPOLLIN, 0u);
    // Edge-triggered: still writable, but no new edge, so no report.
    EXPECT_TRUE(wait_reports(poller, 0).empty());
    poller.unwatch(s.a);
}

TEST_P(PollerTest, SeveralArrivalsBeforeAWaitAreOneReport) {
    SocketPair s;
    poller.watch(s.a, kStreamEvents, 7);
    (void)wait_reports(poller, kLong);  // the initial writable edge
    put(s.b, "one");
    put(s.b, "two");
    put(s.b, "three");
    auto r = wait_reports(poller, kLong);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].token, 7u);
    EXPECT_NE(r[0].events & EPOLLIN, 0u);
    // Nothing read, nothing new: no report (the loop caches readiness until EAGAIN).
    EXPECT_TRUE(wait_reports(poller, 0).empty());
    // New data is a new edge even though the old data is still unread.
    put(s.b, "four");
    r = wait_reports(poller, kLong);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_NE(r[0].events & EPOLLIN, 0u);
    poller.unwatch(s.a);
}

TEST_P(PollerTest, EachReadyFdIsReportedWithItsOwnToken) {
    SocketPair s1, s2, s3;
    poller.watch(s1.a, kStreamEvents, 1);
    poller.watch(s2.a, kStreamEvents, 2);
    poller.watch(s3.a, kStreamEvents, 3);
    EXPECT_EQ(poller.watched(), 3);
    auto initial = wait_reports(poller, kLong);
    // Writable edges of all three, possibly over more than one wait (each fd once per wait).
    std::vector<int> seen(4, 0);
    for (int round = 0; round < 10; ++round) {
        for (const Report& r : initial) seen[r.token]++;
        if (seen[1] && seen[2] && seen[3]) break;
        initial = wait_reports(poller, 1'000'000);
    }
    EXPECT_EQ(seen[1], 1);
    EXPECT_EQ(seen[2], 1);
    EXPECT_EQ(seen[3], 1);
    put(s2.b, "x");
    auto r = wait_reports(poller, kLong);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].token, 2u);
    poller.unwatch(s1.a);
    poller.unwatch(s2.a);
    poller.unwatch(s3.a);
    EXPECT_EQ(poller.watched(), 0);
}

TEST_P(PollerTest, PeerCloseIsReportedAsReadHangUp) {
    SocketPair s;
    poller.watch(s.a, kStreamEvents, 7);
    (void)wait_reports(poller, kLong);
    ::close(s.b);
    s.b = -1;
    auto r = wait_reports(poller, kLong);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_NE(r[0].events & EPOLLRDHUP, 0u);
    EXPECT_NE(r[0].events & EPOLLIN, 0u);
    poller.unwatch(s.a);
}

TEST_P(PollerTest, HalfCloseIsReadHangUpOnly) {
    SocketPair s;
    poller.watch(s.a, kStreamEvents, 7);
    (void)wait_reports(poller, kLong);
    ASSERT_EQ(::shutdown(s.b, SHUT_WR), 0);
    auto r = wait_reports(poller, kLong);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_NE(r[0].events & EPOLLRDHUP, 0u);
    EXPECT_EQ(r[0].events & (EPOLLHUP | EPOLLERR), 0u);  // the write side still works
    poller.unwatch(s.a);
}

TEST_P(PollerTest, UnwatchedFdIsNotReported) {
    SocketPair s;
    poller.watch(s.a, kStreamEvents, 7);
    poller.unwatch(s.a);  // before any wait: the request may not even have reached the kernel
    EXPECT_EQ(poller.watched(), 0);
    put(s.b, "x");
    EXPECT_TRUE(wait_reports(poller, 20'000'000).empty());
    poller.unwatch(s.a);  // twice: harmless
    poller.unwatch(12345);  // never watched: harmless
}

TEST_P(PollerTest, FdCanBeWatchedAgainAfterUnwatch) {
    SocketPair s;
    poller.watch(s.a, kStreamEvents, 7);
    (void)wait_reports(poller, kLong);
    poller.unwatch(s.a);
    poller.watch(s.a, kStreamEvents, 8);
    auto r = wait_reports(poller, kLong);  // the new registration reports the current state
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].token, 8u);
    poller.unwatch(s.a);
}

TEST_P(PollerTest, WatchingTwiceIsRefused) {
    SocketPair s;
    poller.watch(s.a, kStreamEvents, 7);
    try {
        poller.watch(s.a, kStreamEvents, 8);
        FAIL() << "expected EEXIST";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EEXIST);
    }
    EXPECT_EQ(poller.watched(), 1);
    poller.unwatch(s.a);
}

TEST_P(PollerTest, RefusesWhatEpollCannotWatch) {
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_GE(devnull, 0);
    try {
        poller.watch(devnull, kStreamEvents, 1);
        FAIL() << "expected EPERM";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EPERM);
    }
    ::close(devnull);
    try {
        poller.watch(devnull, kStreamEvents, 1);  // closed now
        FAIL() << "expected EBADF";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EBADF);
    }
    EXPECT_EQ(poller.watched(), 0);
}

TEST_P(PollerTest, SocketClosedAfterUnwatchIsClosedAtOnce) {
    // A listening socket closed right after unwatch() must refuse the next connection: the
    // back end may not keep the socket open behind the program's back.
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 8), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    poller.watch(listener, kStreamEvents, 1);
    (void)wait_reports(poller, 0);
    poller.unwatch(listener);
    ::close(listener);
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(client, 0);
    EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
    ::close(client);
}

TEST_P(PollerTest, PeerUnwatchedAndClosedJustAfterSendingIsSeenClosed) {
    // The server side of a TCP connection is watched, sends, and is unwatched and closed in
    // the same instant (its poll request may still be completing): the client must see the
    // data and the end of stream, as with epoll (a poll request left alive would hold the
    // socket open: no FIN, ever).
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 8), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    int client = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(client, 0);
    (void)::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    poller.watch(client, kStreamEvents, 1);
    (void)wait_reports(poller, kLong);  // connected: writable
    int server = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ASSERT_GE(server, 0);
    poller.watch(server, kStreamEvents, 2);
    put(server, "abc");
    poller.unwatch(server);
    ::close(server);
    std::uint32_t seen = 0;
    for (int i = 0; i < 10 && (seen & EPOLLRDHUP) == 0; ++i) {
        for (const Report& r : wait_reports(poller, 1'000'000'000)) {
            EXPECT_EQ(r.token, 1u);
            seen |= r.events;
        }
    }
    EXPECT_NE(seen & EPOLLIN, 0u);
    EXPECT_NE(seen & EPOLLRDHUP, 0u);
    char buf[16];
    EXPECT_EQ(::read(client, buf, sizeof buf), 3);
    EXPECT_EQ(::read(client, buf, sizeof buf), 0);  // end of stream
    poller.unwatch(client);
    ::close(client);
    ::close(listener);
}

// wait() may return early with nothing to report (EINTR: a signal, or kernel work for this
// thread: a ring destroyed by the previous test interrupts it a few dozen times while the
// kernel tears the ring down); the loop just looks at its queues again. These helpers wait
// through such returns and count them: a wake-up that is never drained would make every wait
// return at once, tens of thousands of times in 20 ms.
struct Waited {
    std::chrono::nanoseconds took;
    int returns;
};
Waited wait_until(Poller& p, std::chrono::nanoseconds span) {
    auto start = std::chrono::steady_clock::now();
    auto end = start + span;
    int returns = 0;
    for (auto now = start; now < end && returns < 100000; now = std::chrono::steady_clock::now()) {
        EXPECT_TRUE(wait_reports(p, (end - now).count()).empty());
        ++returns;
    }
    return {std::chrono::steady_clock::now() - start, returns};
}

TEST_P(PollerTest, WakeFromAnotherThreadEndsAnUnboundedWait) {
    std::atomic<bool> woke{false};
    std::thread t([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        woke = true;
        poller.wake();
    });
    int returns = 0;
    while (!woke) {
        EXPECT_TRUE(wait_reports(poller, -1).empty());  // the wake-up itself is never reported
        ++returns;
    }
    EXPECT_LT(returns, 200);
    t.join();
    // Drained: waiting 20 ms takes a few returns at most, not thousands.
    Waited w = wait_until(poller, std::chrono::milliseconds(20));
    EXPECT_LT(w.returns, 200);
}

Poller* g_signal_poller = nullptr;
void wake_from_handler(int) { g_signal_poller->wake(); }

TEST_P(PollerTest, WakeFromASignalHandlerOnAnotherThread) {
    g_signal_poller = &poller;
    struct sigaction sa{};
    sa.sa_handler = wake_from_handler;
    struct sigaction old{};
    ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
    // This thread blocks SIGUSR1, so the handler runs on the helper thread and only wake()
    // can end this thread's wait.
    sigset_t block, saved;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &saved), 0);
    std::thread t([] {
        sigset_t unblock;
        sigemptyset(&unblock);
        sigaddset(&unblock, SIGUSR1);
        ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ::raise(SIGUSR1);
    });
    EXPECT_TRUE(wait_reports(poller, kLong).empty());
    t.join();
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    ::sigaction(SIGUSR1, &old, nullptr);
    g_signal_poller = nullptr;
}

TEST_P(PollerTest, TimeoutIsHonoured) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(wait_reports(poller, 30'000'000).empty());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    Waited w = wait_until(poller, std::chrono::milliseconds(30));
    EXPECT_LT(w.returns, 200);  // blocked, did not spin
    EXPECT_LT(w.took, std::chrono::seconds(2));
}

TEST_P(PollerTest, DestroyedWithFdsStillWatched) {
    // Nothing leaks and nothing is touched after free (ASan/LSan builds): records named by
    // requests still in the kernel go with the poller.
    std::vector<SocketPair> pairs(50);
    {
        Poller p{GetParam()};
        for (std::size_t i = 0; i < pairs.size(); ++i) p.watch(pairs[i].a, kStreamEvents, i + 1);
        (void)wait_reports(p, 0);
        for (std::size_t i = 0; i < pairs.size(); i += 2) put(pairs[i].b, "x");
        for (std::size_t i = 0; i < pairs.size(); i += 3) p.unwatch(pairs[i].a);  // removes in flight
    }
    // The fds still work on their own.
    put(pairs[1].b, "y");
    char buf[4];
    EXPECT_EQ(::read(pairs[1].a, buf, sizeof buf), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, PollerTest, ::testing::Values(PollerBackend::Epoll, PollerBackend::IoUring),
                         [](const auto& info) {
                             return std::string(info.param == PollerBackend::Epoll ? "epoll" : "io_uring");
                         });

// ---- which back end a loop uses -------------------------------------------------------------

TEST(PollerBackendSelection, LoopUsesTheBackEndTheEnvironmentNames) {
    const char* env = std::getenv("ASYNCIO_BACKEND");
    std::string wanted = env == nullptr ? "" : env;
    std::string_view actual = asyncio::get_event_loop().backend();
    // CI sets this to insist that the io_uring run really ran on io_uring (no silent fallback).
    if (const char* expected = std::getenv("ASYNCIO_TEST_EXPECT_BACKEND")) {
        EXPECT_EQ(actual, expected);
    }
    if (wanted == "io_uring" && io_uring_available()) {
        EXPECT_EQ(actual, "io_uring");
    } else {
        EXPECT_EQ(actual, "epoll");
    }
}

struct EnvGuard {
    std::string saved;
    bool had;
    EnvGuard() {
        const char* v = std::getenv("ASYNCIO_BACKEND");
        had = v != nullptr;
        if (had) saved = v;
    }
    ~EnvGuard() {
        if (had) {
            ::setenv("ASYNCIO_BACKEND", saved.c_str(), 1);
        } else {
            ::unsetenv("ASYNCIO_BACKEND");
        }
    }
};

TEST(PollerBackendSelection, EnvironmentValues) {
    EnvGuard guard;
    ::unsetenv("ASYNCIO_BACKEND");
    EXPECT_EQ(asyncio::detail::backend_from_environment(), PollerBackend::Epoll);
    ::setenv("ASYNCIO_BACKEND", "", 1);
    EXPECT_EQ(asyncio::detail::backend_from_environment(), PollerBackend::Epoll);
    ::setenv("ASYNCIO_BACKEND", "epoll", 1);
    EXPECT_EQ(asyncio::detail::backend_from_environment(), PollerBackend::Epoll);
    ::setenv("ASYNCIO_BACKEND", "io_uring", 1);
    EXPECT_EQ(asyncio::detail::backend_from_environment(), PollerBackend::IoUring);
    ::setenv("ASYNCIO_BACKEND", "uring", 1);
    EXPECT_THROW(asyncio::detail::backend_from_environment(), std::invalid_argument);
}

// In a child process (the filter cannot be removed): io_uring_setup fails with EPERM, as under
// a container's seccomp profile; asking for io_uring then gives a working epoll loop.
int child_with_io_uring_refused() {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 10;
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<std::uint32_t>(offsetof(seccomp_data, nr))),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    if (::syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return 11;
    if (io_uring_available()) return 12;
    Poller p{PollerBackend::IoUring};
    if (p.backend() != PollerBackend::Epoll) return 13;
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) return 14;
    p.watch(sv[0], kStreamEvents, 5);
    (void)p.wait(0, [](std::uint64_t, std::uint32_t) {});
    if (::write(sv[1], "x", 1) != 1) return 15;
    int got = 0;
    p.wait(1'000'000'000, [&](std::uint64_t token, std::uint32_t events) {
        if (token == 5 && (events & EPOLLIN) != 0) ++got;
    });
    if (got != 1) return 16;
    ::setenv("ASYNCIO_BACKEND", "io_uring", 1);
    if (asyncio::new_event_loop().backend() != "epoll") return 17;
    return 0;
}

TEST(PollerBackendSelection, FallsBackToEpollWhereIoUringIsRefused) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(child_with_io_uring_refused());
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
