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
#include "support/children.hpp"
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
        EXPECT_TRUE(asyncio::testing::no_children()) << "a child of this process is still running or a zombie";
    }

private:
    int fds_before_ = 0;
};

/// For children that sleep until killed: they must not hold this test's stdout and stderr
/// (ctest's pipes), or a crash of the test would leave ctest waiting for them.
const ProcessOptions kQuiet{.out = DEVNULL, .err = DEVNULL};

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
        EXPECT_FALSE(asyncio::testing::reaped(child));
        // The loop reaps it when its pidfd fires, with nobody waiting.
        for (int i = 0; i < 5000 && !asyncio::testing::reaped(child); ++i) co_await sleep_ms(1);
        co_return child;
    }());
    EXPECT_TRUE(asyncio::testing::reaped(pid));
}

TEST_F(SubprocessTest, CommunicateBigOutputBothStreamsNoDeadlock) {
    // 1 MB on stdout and 1 MB on stderr: far beyond a pipe's 64 KiB, so reading one stream to
    // its end before the other would deadlock.
    auto [out, err] = run([]() -> Coro<std::pair<std::string, std::string>> {
        std::vector<std::string> args{"-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2"};
        ProcessOptions opts{.out = PIPE, .err = PIPE};
        Process p = co_await create_subprocess_exec("/bin/sh", args, opts);
        auto result = co_await p.communicate();
        EXPECT_EQ(p.returncode(), 0);
        co_return result;
    }());
    EXPECT_EQ(out.size(), 1000000u);
    EXPECT_EQ(err.size(), 1000000u);
}

TEST_F(SubprocessTest, CommunicateFeedsBigInputWhileReading) {
    // cat echoes 2 MB: feeding it all before reading would fill both pipes and stall.
    std::string input(2 * 1024 * 1024, 'x');
    for (std::size_t i = 0; i < input.size(); i += 4096) input[i] = static_cast<char>('a' + (i / 4096) % 26);
    std::string out = run([](std::string data) -> Coro<std::string> {
        ProcessOptions opts{.in = PIPE, .out = PIPE};
        std::vector<std::string> no_args;
        Process p = co_await create_subprocess_exec("cat", no_args, opts);
        auto [o, e] = co_await p.communicate(data);
        EXPECT_EQ(e, "");
        co_return o;
    }(input));
    EXPECT_EQ(out, input);
}

TEST_F(SubprocessTest, StderrToStdoutMerges) {
    std::string out = run([]() -> Coro<std::string> {
        std::vector<std::string> args{"-c", "echo out; echo err >&2"};
        ProcessOptions opts{.out = PIPE, .err = STDOUT};
        Process p = co_await create_subprocess_exec("/bin/sh", args, opts);
        EXPECT_FALSE(p.err);
        auto [o, e] = co_await p.communicate();
        EXPECT_EQ(e, "");
        co_return o;
    }());
    EXPECT_EQ(out, "out\nerr\n");
}

TEST_F(SubprocessTest, DevnullStdinReadsNothing) {
    std::string out = run([]() -> Coro<std::string> {
        ProcessOptions opts{.in = DEVNULL, .out = PIPE};
        std::vector<std::string> no_args;
        Process p = co_await create_subprocess_exec("cat", no_args, opts);
        auto [o, e] = co_await p.communicate();
        EXPECT_EQ(p.returncode(), 0);
        co_return o;
    }());
    EXPECT_EQ(out, "");
}

TEST_F(SubprocessTest, EnvReplacesTheEnvironment) {
    std::string out = run([]() -> Coro<std::string> {
        std::vector<std::string> args{"-c", "echo \"$GREETING\" \"${HOME-unset}\""};
        ProcessOptions opts{.out = PIPE};
        opts.env = std::map<std::string, std::string>{{"GREETING", "hello world"}};
        Process p = co_await create_subprocess_exec("/bin/sh", args, opts);
        auto [o, e] = co_await p.communicate();
        co_return o;
    }());
    EXPECT_EQ(out, "hello world unset\n");
}

TEST_F(SubprocessTest, ProgramIsSearchedInTheChildsPath) {
    run([]() -> Coro<> {
        std::vector<std::string> no_args;
        ProcessOptions nowhere;
        nowhere.env = std::map<std::string, std::string>{{"PATH", "/nonexistent-xyz"}};
        try {
            (void)co_await create_subprocess_exec("true", no_args, nowhere);
            ADD_FAILURE() << "found true in a PATH that does not have it";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT);
        }
        ProcessOptions usual;
        usual.env = std::map<std::string, std::string>{{"PATH", "/nonexistent-xyz:/usr/bin:/bin"}};
        Process p = co_await create_subprocess_exec("true", no_args, usual);
        EXPECT_EQ(co_await p.wait(), 0);
    }());
}

TEST_F(SubprocessTest, CwdIsTheChildsWorkingDirectory) {
    std::string out = run([]() -> Coro<std::string> {
        std::vector<std::string> no_args;
        ProcessOptions opts{.out = PIPE, .cwd = "/"};
        Process p = co_await create_subprocess_exec("pwd", no_args, opts);
        auto [o, e] = co_await p.communicate();
        co_return o;
    }());
    EXPECT_EQ(out, "/\n");
}

TEST_F(SubprocessTest, ShellUnknownCommandIs127) {
    int code = run([]() -> Coro<int> {
        ProcessOptions opts{.err = DEVNULL};
        Process p = co_await create_subprocess_shell("no-such-command-xyz", opts);
        co_return co_await p.wait();
    }());
    EXPECT_EQ(code, 127);
}

TEST_F(SubprocessTest, TerminateKillAndSendSignal) {
    run([]() -> Coro<> {
        std::vector<std::string> args{"3600"};
        Process a = co_await create_subprocess_exec("sleep", args, kQuiet);
        Process b = co_await create_subprocess_exec("sleep", args, kQuiet);
        Process c = co_await create_subprocess_exec("sleep", args, kQuiet);
        a.terminate();
        b.kill();
        c.send_signal(SIGUSR1);  // not SIGINT: a background shell job inherits SIGINT ignored
        EXPECT_EQ(co_await a.wait(), -SIGTERM);
        EXPECT_EQ(co_await b.wait(), -SIGKILL);
        EXPECT_EQ(co_await c.wait(), -SIGUSR1);
        // Once reaped the pid may be someone else's: signals are no longer sent.
        a.kill();
        EXPECT_EQ(a.returncode(), -SIGTERM);
    }());
}

TEST_F(SubprocessTest, InvalidSignalIsSystemError) {
    run([]() -> Coro<> {
        std::vector<std::string> args{"3600"};
        Process p = co_await create_subprocess_exec("sleep", args, kQuiet);
        try {
            p.send_signal(9999);
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EINVAL);
        }
        p.kill();
        co_await p.wait();
    }());
}

TEST_F(SubprocessTest, CopiesShareTheChild) {
    run([]() -> Coro<> {
        Process p = co_await create_subprocess_shell("exit 3");
        Process q = p;
        EXPECT_EQ(q.pid(), p.pid());
        EXPECT_EQ(co_await q.wait(), 3);
        EXPECT_EQ(p.returncode(), 3);
        EXPECT_EQ(co_await p.wait(), 3);  // after the exit: at once
    }());
}

TEST_F(SubprocessTest, TwoTasksWaitForOneChild) {
    run([]() -> Coro<> {
        Process p = co_await create_subprocess_shell("exit 5");
        Task<int> t1 = create_task(p.wait());
        Task<int> t2 = create_task(p.wait());
        EXPECT_EQ(co_await t1, 5);
        EXPECT_EQ(co_await t2, 5);
    }());
}

TEST_F(SubprocessTest, BadOptionsAreInvalidArgument) {
    run([]() -> Coro<> {
        std::vector<std::string> no_args;
        ProcessOptions in_to_stdout{.in = STDOUT};
        EXPECT_THROW((void)co_await create_subprocess_exec("true", no_args, in_to_stdout), std::invalid_argument);
        ProcessOptions out_to_stdout{.out = STDOUT};
        EXPECT_THROW((void)co_await create_subprocess_exec("true", no_args, out_to_stdout), std::invalid_argument);
        std::vector<std::string> nul_arg{std::string("a\0b", 3)};
        EXPECT_THROW((void)co_await create_subprocess_exec("true", nul_arg), std::invalid_argument);
        EXPECT_THROW((void)co_await create_subprocess_exec(""), std::invalid_argument);
        ProcessOptions bad_env;
        bad_env.env = std::map<std::string, std::string>{{"A=B", "c"}};
        EXPECT_THROW((void)co_await create_subprocess_exec("true", no_args, bad_env), std::invalid_argument);
    }());
}

TEST_F(SubprocessTest, EmptyProcessHandleThrows) {
    Process p;
    EXPECT_FALSE(p);
    EXPECT_THROW((void)p.pid(), RuntimeError);
    EXPECT_THROW((void)p.returncode(), RuntimeError);
    EXPECT_THROW(p.kill(), RuntimeError);
    EXPECT_THROW((void)p.wait(), RuntimeError);
}

TEST_F(SubprocessTest, DrainToExitedChildIsEpipeNotSigpipe) {
    // SIGPIPE's default action would end this test binary: reaching the checks proves none came.
    run([]() -> Coro<> {
        ProcessOptions opts{.in = PIPE};
        std::vector<std::string> no_args;
        Process p = co_await create_subprocess_exec("true", no_args, opts);
        EXPECT_EQ(co_await p.wait(), 0);
        p.in.write(std::string(256 * 1024, 'x'));
        try {
            co_await p.in.drain();
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EPIPE);
        }
    }());
}

TEST_F(SubprocessTest, CancelTaskWaitingInWait) {
    run([]() -> Coro<> {
        std::vector<std::string> args{"3600"};
        Process p = co_await create_subprocess_exec("sleep", args, kQuiet);
        Task<int> waiter = create_task(p.wait());
        co_await sleep(0);  // it is waiting now
        waiter.cancel();
        EXPECT_THROW(co_await waiter, CancelledError);
        EXPECT_FALSE(p.returncode().has_value()) << "cancelling wait() must not touch the child";
        p.kill();
        EXPECT_EQ(co_await p.wait(), -SIGKILL);
    }());
}

TEST_F(SubprocessTest, CancelTaskWaitingInCommunicate) {
    run([]() -> Coro<> {
        std::vector<std::string> args{"-c", "echo started; exec sleep 3600"};
        ProcessOptions opts{.in = PIPE, .out = PIPE, .err = DEVNULL};
        Process p = co_await create_subprocess_exec("/bin/sh", args, opts);
        Task<std::pair<std::string, std::string>> talker = create_task(p.communicate("ignored"));
        co_await sleep(0);
        co_await sleep(0);
        talker.cancel();
        EXPECT_THROW(co_await talker, CancelledError);
        EXPECT_FALSE(p.returncode().has_value());
        p.kill();
        EXPECT_EQ(co_await p.wait(), -SIGKILL);
    }());
}

TEST_F(SubprocessTest, LoopCloseKillsAndReapsRunningChild) {
    Process p = run([]() -> Coro<Process> {
        std::vector<std::string> args{"3600"};
        Process child = co_await create_subprocess_exec("sleep", args, kQuiet);
        co_return child;
    }());
    EXPECT_FALSE(p.returncode().has_value());
    get_event_loop().close();
    EXPECT_EQ(p.returncode(), -SIGKILL);
    EXPECT_TRUE(asyncio::testing::reaped(p.pid()));
}

TEST_F(SubprocessTest, ManyChildrenAtOnce) {
    int total = run([]() -> Coro<int> {
        std::vector<Task<int>> waits;
        for (int i = 0; i < 20; ++i) {
            Process p = co_await create_subprocess_shell("exit " + std::to_string(i));
            waits.push_back(create_task(p.wait()));
        }
        int sum = 0;
        for (int code : co_await gather(waits)) sum += code;
        co_return sum;
    }());
    EXPECT_EQ(total, 190);
}

// ---- Without pidfd_open (kernels before 5.3): the helper-thread fallback ----------------------

class SubprocessFallbackTest : public SubprocessTest {
protected:
    void SetUp() override {
        SubprocessTest::SetUp();
        asyncio::detail::g_pidfd_open_errno = ENOSYS;
    }
    void TearDown() override {
        SubprocessTest::TearDown();
        asyncio::detail::g_pidfd_open_errno = 0;
    }
};

TEST_F(SubprocessFallbackTest, WaitAndCommunicate) {
    std::string out = run([]() -> Coro<std::string> {
        Process p = co_await create_subprocess_shell("exit 4");
        EXPECT_EQ(co_await p.wait(), 4);
        ProcessOptions opts{.in = PIPE, .out = PIPE};
        std::vector<std::string> no_args;
        Process c = co_await create_subprocess_exec("cat", no_args, opts);
        auto [o, e] = co_await c.communicate("through the fallback");
        EXPECT_EQ(c.returncode(), 0);
        co_return o;
    }());
    EXPECT_EQ(out, "through the fallback");
}

TEST_F(SubprocessFallbackTest, KilledChildAndDroppedHandle) {
    pid_t dropped = run([]() -> Coro<pid_t> {
        std::vector<std::string> args{"3600"};
        Process p = co_await create_subprocess_exec("sleep", args, kQuiet);
        p.kill();
        EXPECT_EQ(co_await p.wait(), -SIGKILL);
        pid_t child;
        {
            Process q = co_await create_subprocess_exec("true");
            child = q.pid();
        }
        for (int i = 0; i < 5000 && !asyncio::testing::reaped(child); ++i) co_await sleep_ms(1);
        co_return child;
    }());
    EXPECT_TRUE(asyncio::testing::reaped(dropped));
}

TEST_F(SubprocessFallbackTest, LoopCloseKillsAndReaps) {
    Process p = run([]() -> Coro<Process> {
        std::vector<std::string> args{"3600"};
        Process child = co_await create_subprocess_exec("sleep", args, kQuiet);
        co_return child;
    }());
    get_event_loop().close();
    EXPECT_EQ(p.returncode(), -SIGKILL);
}

// ---- Failures of the system around the child --------------------------------------------------

TEST_F(SubprocessTest, ChildReapedBySomeoneElseReports255) {
    // Other code calling waitpid() on our child takes its status; as CPython, 255 then.
    int code = run([]() -> Coro<int> {
        Process p = co_await create_subprocess_shell("exit 3");
        int status = 0;
        EXPECT_EQ(::waitpid(p.pid(), &status, 0), p.pid());
        co_return co_await p.wait();
    }());
    EXPECT_EQ(code, 255);
}

namespace {

/// Makes one of the library's fd-creating calls fail with `err` while it lives (test seam).
class InjectedFailure {
public:
    InjectedFailure(std::atomic<int>& seam, int err) : seam_(seam) { seam_ = err; }
    ~InjectedFailure() { seam_ = 0; }
    InjectedFailure(const InjectedFailure&) = delete;
    InjectedFailure& operator=(const InjectedFailure&) = delete;

private:
    std::atomic<int>& seam_;
};

}  // namespace

TEST_F(SubprocessTest, NoFdForThePipesIsSystemErrorAndNoChild) {
    run([]() -> Coro<> {
        std::vector<std::string> no_args;
        ProcessOptions opts{.in = PIPE, .out = PIPE};
        InjectedFailure no_fds(asyncio::detail::g_stdio_pipe_errno, EMFILE);
        try {
            (void)co_await create_subprocess_exec("cat", no_args, opts);
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EMFILE);
        }
    }());
}

TEST_F(SubprocessTest, NoFdForThePidfdKillsAndReapsTheChild) {
    // The child is already running when pidfd_open fails: it must be killed and reaped, not
    // left behind (TearDown checks there is no child).
    run([]() -> Coro<> {
        std::vector<std::string> args{"3600"};
        InjectedFailure no_fds(asyncio::detail::g_pidfd_open_errno, EMFILE);
        try {
            (void)co_await create_subprocess_exec("sleep", args, kQuiet);
            ADD_FAILURE() << "no exception";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EMFILE);
        }
    }());
    EXPECT_TRUE(asyncio::testing::no_children());
}
