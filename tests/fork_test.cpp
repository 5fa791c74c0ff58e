// fork() while loops exist, with real fork(): the child starts with a fresh loop of its own, no
// registration of the child reaches the parent's epoll instance, an inherited Loop object raises
// RuntimeError, and the parent carries on untouched.
//
// Children report through their exit status (gtest assertions in a child would be lost): each
// check has its own status, and a child always ends with _exit (no atexit handlers, no
// destructors of the parent's objects; ThreadSanitizer also wants _exit after fork).
#include <asyncio/asyncio.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using Fork = asyncio::testing::LoopTest;

// ThreadSanitizer kills, by default (die_after_fork=1), a child of a multi-threaded parent that
// starts a thread: its own state for the parent's other threads is gone in the child. These
// tests fork with worker and loop threads alive on purpose, and the child's to_thread must
// start threads; the library makes that safe (no lock of a vanished thread is inherited), so
// this binary turns the check off. TSan still checks the child's own threads.
#if defined(__SANITIZE_THREAD__)
#define ASYNCIO_FORK_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ASYNCIO_FORK_TEST_TSAN 1
#endif
#endif
#ifdef ASYNCIO_FORK_TEST_TSAN
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }
#endif

namespace {

/// Fds of this process that are epoll instances.
std::vector<int> epoll_fds() {
    std::vector<int> fds;
    for (int fd : asyncio::testing::open_fds()) {
        if (asyncio::testing::fd_target(fd) == "anon_inode:[eventpoll]") fds.push_back(fd);
    }
    return fds;
}

/// The interest list of epoll instance `epfd`: its "tfd:" lines in /proc/self/fdinfo.
std::vector<std::string> interest_list(int epfd) {
    std::ifstream f("/proc/self/fdinfo/" + std::to_string(epfd));
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("tfd:", 0) == 0) lines.push_back(line);
    }
    return lines;
}

/// The only epoll instance of this (single-loop) process.
int the_epoll_fd() {
    std::vector<int> fds = epoll_fds();
    EXPECT_EQ(fds.size(), 1u);
    return fds.empty() ? -1 : fds.front();
}

/// Exit status of a child: 0 when every check held, else the number of the first that failed.
int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1000;
    }
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return WEXITSTATUS(status);
}

/// In the child: `body` returns the exit status; an exception is status 99.
[[noreturn]] void child_exit(const std::function<int()>& body) {
    int rc = 99;
    try {
        rc = body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child: unexpected exception: %s\n", e.what());
    }
    std::fflush(stderr);
    ::_exit(rc);
}

/// Forks; the child runs `body` and exits with its status; the parent gets that status.
int in_child(const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid < 0) return -2000;
    if (pid == 0) child_exit(body);
    return wait_for(pid);
}

bool raises_inherited(const std::function<void()>& f) {
    try {
        f();
    } catch (const RuntimeError& e) {
        return std::string(e.what()).find("fork()") != std::string::npos;
    }
    return false;
}

Coro<> noop() { co_return; }

/// A small asyncio program of its own: sleep, an echo over a socket pair, to_thread.
Coro<int> small_program() {
    co_await sleep(0.005);
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) co_return 20;
    Stream a = open_fd(sv[0]);
    Stream b = open_fd(sv[1]);
    a.write("ping\n");
    co_await a.drain();
    std::string line = co_await b.readline();
    b.write(line);
    co_await b.drain();
    std::string echoed = co_await a.readline();
    if (echoed != "ping\n") co_return 21;
    int answer = co_await to_thread([] { return 6 * 7; });
    if (answer != 42) co_return 22;
    co_return 0;
}

Coro<> echo_client(Stream reader, Stream writer) {
    std::string line = co_await reader.readline();
    writer.write(line);
    co_await writer.drain();
}

Coro<std::string> ask(std::uint16_t port, std::string line) {
    auto [reader, writer] = co_await open_connection("127.0.0.1", port);
    writer.write(line);
    co_await writer.drain();
    std::string reply = co_await reader.readline();
    writer.close();
    co_return reply;
}

}  // namespace

// The child runs its own program (sleep, socket-pair echo, to_thread) on a fresh loop while the
// parent's loop has a listening socket registered and worker threads started; afterwards the
// parent's interest list is the same and its loop still serves.
TEST_F(Fork, ChildRunsItsOwnProgramAndTheParentIsUntouched) {
    Loop& parent_loop = get_event_loop();
    Server server = run(start_server(echo_client, "127.0.0.1", 0));
    EXPECT_EQ(run(to_thread([] { return 1; })), 1);  // the parent's worker pool has a thread
    const int epfd = the_epoll_fd();
    const std::vector<std::string> before = interest_list(epfd);
    ASSERT_FALSE(before.empty());  // at least the wake-up eventfd and the listening socket

    int rc = in_child([&] {
        if (!epoll_fds().empty()) return 10;  // the inherited epoll fd copies are closed
        if (!parent_loop.is_closed()) return 11;
        int status = run(small_program());
        if (status != 0) return status;
        if (&get_event_loop() == &parent_loop) return 12;
        return 0;
    });
    EXPECT_EQ(rc, 0);

    EXPECT_EQ(interest_list(epfd), before);
    EXPECT_FALSE(parent_loop.is_closed());
    EXPECT_EQ(run(ask(server.port(), "after fork\n")), "after fork\n");
    EXPECT_EQ(run(to_thread([] { return 2; })), 2);
    server.close();
    run(server.wait_closed());
}

// While the child waits with a socket registered in its own loop, the parent's epoll instance
// lists exactly what it listed before fork(). (Before fork() was handled, the child's
// registration landed in the parent's instance: shared open file description.)
TEST_F(Fork, ChildRegistrationsNeverReachTheParentsEpoll) {
    run(sleep(0));  // the parent's loop exists and has run
    const int epfd = the_epoll_fd();
    const std::vector<std::string> before = interest_list(epfd);

    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int ready[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(sv[0]);
        ::close(ready[0]);
        child_exit([&] {
            return run([](int fd, int ready_fd) -> Coro<int> {
                Stream s = open_fd(fd);
                Task<std::string> line = create_task(s.readline());
                co_await sleep(0);  // the reader is waiting: the socket is registered
                char byte = 'r';
                if (::write(ready_fd, &byte, 1) != 1) co_return 30;
                if ((co_await std::move(line)) != "go\n") co_return 31;
                co_return 0;
            }(sv[1], ready[1]));
        });
    }
    ::close(sv[1]);
    ::close(ready[1]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);  // the child has registered its socket
    EXPECT_EQ(interest_list(epfd), before);
    ASSERT_EQ(::write(sv[0], "go\n", 3), 3);
    EXPECT_EQ(wait_for(pid), 0);
    EXPECT_EQ(interest_list(epfd), before);
    ::close(sv[0]);
    ::close(ready[0]);
    run(sleep(0.001));  // and the parent's loop still sleeps and wakes
}

// Every use of an inherited Loop object raises RuntimeError naming fork(); close() is harmless;
// get_event_loop() and asyncio::run give the child a different, working loop.
TEST_F(Fork, AnInheritedLoopRaisesAndTheChildGetsAFreshOne) {
    Loop& inherited = get_event_loop();
    run(sleep(0));
    int rc = in_child([&] {
        if (!inherited.is_closed()) return 40;
        if (!raises_inherited([&] { inherited.run_until_complete(noop()); })) return 41;
        if (!raises_inherited([&] { inherited.create_task(noop()); })) return 42;
        if (!raises_inherited([&] { inherited.call_soon([] {}); })) return 43;
        if (!raises_inherited([&] { inherited.call_later(0.1, [] {}); })) return 44;
        if (!raises_inherited([&] { inherited.call_soon_threadsafe([] {}); })) return 45;
        if (!raises_inherited([&] { inherited.add_signal_handler(SIGUSR1, [] {}); })) return 46;
        if (!raises_inherited([&] { inherited.run_forever(); })) return 47;
        inherited.close();  // no-op, no throw
        Loop& fresh = get_event_loop();
        if (&fresh == &inherited || fresh.is_closed()) return 48;
        int calls = 0;
        fresh.call_soon([&] { ++calls; });
        run(sleep(0));
        if (calls != 1) return 49;
        if (epoll_fds().size() != 1) return 50;  // the fresh loop's own instance only
        return 0;
    });
    EXPECT_EQ(rc, 0);
    EXPECT_FALSE(inherited.is_closed());
    run(sleep(0));
}

// fork() from inside a task: in the child the task goes on until it suspends, then the inherited
// loop's run raises RuntimeError; after that the thread's next asyncio::run gets a fresh loop.
// The parent's task and loop simply continue.
TEST_F(Fork, ForkFromInsideATask) {
    const pid_t parent = ::getpid();
    pid_t child = -1;
    int inside_status = 0;
    try {
        child = run([](int* status) -> Coro<pid_t> {
            pid_t pid = ::fork();
            if (pid == 0) {
                // Still inside the inherited loop's run: creating a task on it raises.
                try {
                    create_task(noop());
                    *status = 60;
                } catch (const RuntimeError&) {
                }
            }
            co_await sleep(0);  // the step that forked ends: the child's inherited run raises
            co_return pid;
        }(&inside_status));
    } catch (const RuntimeError& e) {
        if (::getpid() == parent) throw;
        child_exit([&] {
            if (inside_status != 0) return inside_status;
            if (std::string(e.what()).find("fork()") == std::string::npos) return 61;
            return run(small_program());
        });
    }
    if (::getpid() != parent) child_exit([] { return 62; });  // the child's run must not return
    ASSERT_GT(child, 0);
    EXPECT_EQ(wait_for(child), 0);
    run(sleep(0.001));
}

// A loop on another thread, blocked in its poller at fork() time: in the child its epoll fd is
// closed too and using it raises; in the parent it keeps running and stops on request.
TEST_F(Fork, ALoopOnAnotherThreadIsAbandonedInTheChild) {
    std::atomic<Loop*> other{nullptr};
    std::thread t([&] {
        Loop& loop = get_event_loop();
        other.store(&loop);
        loop.run_forever();
    });
    while (other.load() == nullptr) std::this_thread::yield();
    run(sleep(0));
    Loop* other_loop = other.load();
    int rc = in_child([&] {
        if (!epoll_fds().empty()) return 70;  // both loops' instances are closed in the child
        if (!raises_inherited([&] { other_loop->call_soon_threadsafe([] {}); })) return 71;
        return run(small_program());
    });
    EXPECT_EQ(rc, 0);
    other_loop->call_soon_threadsafe([other_loop] { other_loop->stop(); });
    t.join();
}

// A signal a parent's loop handles has its default action in the child, whose own loop can then
// handle it (it belongs to no loop of the child).
TEST_F(Fork, SignalHandlersOfInheritedLoopsAreReset) {
    Loop& loop = get_event_loop();
    loop.add_signal_handler(SIGUSR2, [] {});
    int rc = in_child([] {
        struct sigaction sa {};
        ::sigaction(SIGUSR2, nullptr, &sa);
        if (sa.sa_handler != SIG_DFL) return 80;
        bool seen = false;
        get_event_loop().add_signal_handler(SIGUSR2, [&seen] { seen = true; });
        ::raise(SIGUSR2);
        for (int i = 0; i < 5000 && !seen; ++i) run(sleep(0.001));
        return seen ? 0 : 81;
    });
    EXPECT_EQ(rc, 0);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
}
