// Subprocesses: create_subprocess_exec / _shell with real children (/bin/sh, cat, sort, true),
// pipes, redirections, exit codes and signals, spawn errors, cancel, no zombie and no fd left.
#include <asyncio/asyncio.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "proc/child_watcher.hpp"
#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;

namespace {

/// Every test: a fresh loop, no task left, no fd leaked, no child of ours left unreaped.
class SubprocessTest : public asyncio::testing::LoopTest {
protected:
    void SetUp() override {
        LoopTest::SetUp();
        fds_before_ = asyncio::testing::open_fd_count();
    }
    void TearDown() override {
        LoopTest::TearDown();  // new_event_loop(): kills and reaps what still runs
        EXPECT_EQ(asyncio::testing::open_fd_count(), fds_before_) << "file descriptors leaked";
        EXPECT_TRUE(no_children()) << "a child of this process is still running or a zombie";
    }

public:
    /// True when this process has no child at all, running or zombie (WNOWAIT: only looks).
    static bool no_children() {
        siginfo_t info{};
        return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
    }
    /// True once `pid` is no longer a child of ours: someone (the loop) reaped it.
    static bool reaped(pid_t pid) {
        siginfo_t info{};
        return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
    }

private:
    int fds_before_ = 0;
};

/// A child's view of its open fds (names in /proc/self/fd, sorted).
std::vector<int> parse_fds(const std::string& listing) {
    std::vector<int> fds;
    std::istringstream in(listing);
    std::string name;
    while (in >> name) fds.push_back(std::stoi(name));
    std::sort(fds.begin(), fds.end());
    return fds;
}

}  // namespace

TEST_F(SubprocessTest, ExecTrueExitsZero) {
    int code = run([]() -> Coro<int> {
        Process p = co_await create_subprocess_exec("true");
        EXPECT_GT(p.pid(), 0);
        EXPECT_FALSE(p.returncode().has_value());
        int rc = co_await p.wait();
        EXPECT_EQ(p.returncode(), 0);
        co_return rc;
    }());
    EXPECT_EQ(code, 0);
}

TEST_F(SubprocessTest, ShellExitCode) {
    int code = run([]() -> Coro<int> {
        Process p = co_await create_subprocess_shell("exit 7");
        co_return co_await p.wait();
    }());
    EXPECT_EQ(code, 7);
}

TEST_F(SubprocessTest, PipeStdoutReadsOutput) {
    std::string out = run([]() -> Coro<std::string> {
        std::vector<std::string> args{"-c", "printf 'one\\ntwo\\n'"};
        ProcessOptions opts{.out = PIPE};
        Process p = co_await create_subprocess_exec("/bin/sh", args, opts);
        std::string first = co_await p.out.readline();
        std::string rest = co_await p.out.read();
        EXPECT_EQ(co_await p.wait(), 0);
        co_return first + "|" + rest;
    }());
    EXPECT_EQ(out, "one\n|two\n");
}

TEST_F(SubprocessTest, StdinToCatAndBack) {
    std::string out = run([]() -> Coro<std::string> {
        ProcessOptions opts{.in = PIPE, .out = PIPE};
        std::vector<std::string> no_args;
        Process p = co_await create_subprocess_exec("cat", no_args, opts);
        p.in.write("hello cat\n");
        co_await p.in.drain();
        p.in.close();
        std::string data = co_await p.out.read();
        EXPECT_EQ(co_await p.wait(), 0);
        co_return data;
    }());
    EXPECT_EQ(out, "hello cat\n");
}

TEST_F(SubprocessTest, UnpipedStreamsAreEmpty) {
    run([]() -> Coro<> {
        std::vector<std::string> no_args;
        ProcessOptions opts{.out = DEVNULL};
        Process p = co_await create_subprocess_exec("true", no_args, opts);
        EXPECT_FALSE(p.in);
        EXPECT_FALSE(p.out);
        EXPECT_FALSE(p.err);
        co_await p.wait();
    }());
}

TEST_F(SubprocessTest, ProgramNotFoundIsSystemErrorEnoent) {
    run([]() -> Coro<> {
        try {
            ProcessOptions opts{.in = PIPE, .out = PIPE, .err = PIPE};
            std::vector<std::string> no_args;
            (void)co_await create_subprocess_exec("/nonexistent/program-xyz", no_args, opts);
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT);
            EXPECT_NE(std::string(e.what()).find("program-xyz"), std::string::npos) << e.what();
        }
        try {
            (void)co_await create_subprocess_exec("no-such-program-in-path-xyz");
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT);
        }
    }());
}

TEST_F(SubprocessTest, NotExecutableIsSystemErrorEacces) {
    run([]() -> Coro<> {
        try {
            (void)co_await create_subprocess_exec("/etc/passwd");
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EACCES);
        }
    }());
}

TEST_F(SubprocessTest, BadCwdIsSystemError) {
    run([]() -> Coro<> {
        std::vector<std::string> no_args;
        ProcessOptions opts{.cwd = "/nonexistent-dir-xyz"};
        try {
            (void)co_await create_subprocess_exec("true", no_args, opts);
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT);
        }
    }());
}

TEST_F(SubprocessTest, KilledBySignalGivesNegativeReturncode) {
    run([]() -> Coro<> {
        std::vector<std::string> args{"-c", "kill -TERM $$; sleep 5"};
        Process p = co_await create_subprocess_exec("/bin/sh", args);
        EXPECT_EQ(co_await p.wait(), -SIGTERM);
        EXPECT_EQ(p.returncode(), -SIGTERM);
    }());
}

TEST_F(SubprocessTest, ChildInheritsOnlyItsThreeFds) {
    // A parent fd without close-on-exec must still not reach the child.
    int leaky = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
    ASSERT_GE(leaky, 3);
    std::string listing = run([]() -> Coro<std::string> {
        std::vector<std::string> args{"-c", "ls /proc/self/fd"};
        ProcessOptions opts{.in = PIPE, .out = PIPE, .err = PIPE};
        Process p = co_await create_subprocess_exec("/bin/sh", args, opts);
        auto [out, err] = co_await p.communicate();
        EXPECT_EQ(err, "");
        co_return out;
    }());
    ::close(leaky);
    // 0, 1, 2 and the fd `ls` opens for the directory itself.
    std::vector<int> fds = parse_fds(listing);
    ASSERT_EQ(fds.size(), 4u) << listing;
    EXPECT_EQ(fds[0], 0);
    EXPECT_EQ(fds[1], 1);
    EXPECT_EQ(fds[2], 2);
}

TEST_F(SubprocessTest, DroppedHandleIsReapedWithoutWait) {
    pid_t pid = run([]() -> Coro<pid_t> {
        pid_t child;
        {
            Process p = co_await create_subprocess_exec("true");
            child = p.pid();
        }  // dropped before the child exits
        EXPECT_FALSE(SubprocessTest::reaped(child));
        // The loop reaps it when its pidfd fires, with nobody waiting.
        for (int i = 0; i < 5000 && !SubprocessTest::reaped(child); ++i) co_await sleep_ms(1);
        co_return child;
    }());
    EXPECT_TRUE(reaped(pid));
}
