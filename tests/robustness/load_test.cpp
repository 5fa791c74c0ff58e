// Load: 10,000 connections open at once on one loop, each echoing a line, then all closed.
// Afterwards the process holds the same fds as before and its RSS is back near where it
// started.
//
// The clients live in a forked child that uses plain blocking sockets (never the library, and
// never the parent's loop), so each process needs ~10,000 fds, not 20,000: the test raises the
// soft RLIMIT_NOFILE to what that takes, skipping only where the hard limit is lower (under
// CI, set in .ci/run's environment, that is a failure instead).
// Label "load": the sanitizer stages leave it out (ctest -LE load); dev, clang and the
// release-with-pool stage run it.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "asyncio/asyncio.hpp"
#include "support/faults.hpp"
#include "support/test_loop.hpp"

namespace asyncio::testing {
namespace {

constexpr int kConnections = 10'000;

long rss_kib() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

// Raises the soft RLIMIT_NOFILE to at least `want` (and the hard one if we may).
bool raise_fd_limit(rlim_t want) {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= want) return true;
    if (rl.rlim_max < want) {
        rlimit raised{want, want};
        return ::setrlimit(RLIMIT_NOFILE, &raised) == 0;
    }
    rl.rlim_cur = want;
    return ::setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

// The child: opens every connection (blocking sockets), checks each echo, reports "open" on
// `report`, waits for one byte on `go`, closes them all. Exit status 0 if every echo matched.
[[noreturn]] void run_clients(std::uint16_t port, int report, int go) {
    static int fds[kConnections];
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < kConnections; ++i) {
        fds[i] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0 || ::connect(fds[i], reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(2);
        char line[32];
        int n = std::snprintf(line, sizeof line, "client %d\n", i);
        if (::write(fds[i], line, static_cast<std::size_t>(n)) != n) ::_exit(3);
        char back[32];
        int got = 0;
        while (got < n) {
            ssize_t r = ::read(fds[i], back + got, static_cast<std::size_t>(n - got));
            if (r <= 0) ::_exit(4);
            got += static_cast<int>(r);
        }
        if (std::memcmp(line, back, static_cast<std::size_t>(n)) != 0) ::_exit(5);
    }
    char byte = 'o';
    if (::write(report, &byte, 1) != 1) ::_exit(6);
    if (::read(go, &byte, 1) != 1) ::_exit(7);
    for (int fd : fds) ::close(fd);
    ::_exit(0);
}

struct Hub {
    int active = 0;  // server handlers between their accept and the client's close
    int peak = 0;
    int echoed = 0;
    int finished = 0;
};

Coro<> hold_connection(Stream reader, Stream writer, Hub* hub) {
    ++hub->active;
    if (hub->active > hub->peak) hub->peak = hub->active;
    try {
        std::string line = co_await reader.readline();
        writer.write(line);
        co_await writer.drain();
        ++hub->echoed;
        std::string rest = co_await reader.read();  // until the client closes
        (void)rest;
    } catch (const std::exception&) {
    }
    writer.close();
    try {
        co_await writer.wait_closed();
    } catch (const std::exception&) {
    }
    --hub->active;
    ++hub->finished;
}

// Waits (bounded) until `done()`; false on time-out.
template <class F>
Coro<bool> until(F done, int limit_ms) {
    for (int waited = 0; !done(); waited += 2) {
        if (waited > limit_ms) co_return false;
        co_await sleep_ms(2);
    }
    co_return true;
}

Coro<int> ten_thousand(Hub* hub) {
    ConnectionCallback cb = [hub](Stream r, Stream w) { return hold_connection(std::move(r), std::move(w), hub); };
    Server server = co_await start_server(std::move(cb), "127.0.0.1", 0, 4096);
    int report[2], go[2];
    if (::pipe2(report, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    pid_t child = ::fork();
    if (child == 0) run_clients(server.port(), report[1], go[0]);
    ::close(report[1]);
    ::close(go[0]);
    bool all_open = co_await until([hub] { return hub->echoed == kConnections; }, 60'000);
    EXPECT_TRUE(all_open) << hub->echoed << " of " << kConnections << " echoed";
    EXPECT_EQ(hub->active, hub->echoed) << "every connection is open at once";
    char byte = 0;
    EXPECT_EQ(::read(report[0], &byte, 1), 1);  // the child has seen every echo
    EXPECT_EQ(::write(go[1], "g", 1), 1);
    bool all_closed = co_await until([hub] { return hub->finished == hub->peak; }, 60'000);
    EXPECT_TRUE(all_closed) << hub->finished << " of " << hub->peak << " handlers finished";
    ::close(report[0]);
    ::close(go[1]);
    int status = 0;
    ::waitpid(child, &status, 0);
    server.close();
    co_await server.wait_closed();
    co_return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

class LoadTest : public LoopTest {};

TEST_F(LoadTest, TenThousandConcurrentConnectionsOnOneLoop) {
    if (!raise_fd_limit(kConnections + 1024)) {
        if (std::getenv("CI") != nullptr) FAIL() << "CI: cannot raise RLIMIT_NOFILE to " << kConnections + 1024;
        GTEST_SKIP() << "RLIMIT_NOFILE's hard limit is below " << kConnections + 1024 << " and cannot be raised";
    }
    // Two rounds: the first brings up what stays for the process's life (the frame pool's
    // free lists hold the peak's coroutine frames, the allocator keeps its arenas); the
    // second must then need no more memory. fds must be back to the start after each.
    int fds = open_fd_count();
    long rss_start = rss_kib();
    long rss_after[2] = {0, 0};
    for (int round = 0; round < 2; ++round) {
        Hub hub;
        int child_status = run(ten_thousand(&hub));
        run(settle());
        EXPECT_EQ(child_status, 0) << "the client process failed (see run_clients' exit codes)";
        EXPECT_EQ(hub.peak, kConnections) << "not every connection was open at once";
        EXPECT_EQ(hub.finished, kConnections);
        EXPECT_EQ(open_fd_count(), fds) << "round " << round << ": fds not back to baseline";
        ::malloc_trim(0);
        rss_after[round] = rss_kib();
    }
    std::printf("load: RSS %ld KiB at start, %ld after round 1, %ld after round 2 (%d connections each)\n",
                rss_start, rss_after[0], rss_after[1], kConnections);
    EXPECT_LT(rss_after[1] - rss_after[0], 2 * 1024) << "the second round grew RSS: something per connection leaks";
}

}  // namespace
}  // namespace asyncio::testing
