// Ports of CPython's Lib/test/test_asyncio/test_subprocess.py (behaviour, not code), one TEST
// per upstream test, named after it. Upstream runs `python -c ...` children; these run the
// same behaviour with cat, sleep and /bin/sh. Every test checks that no fd is left open and no
// child is left running or unreaped.
// Not ported: the transport/protocol tests (test_proc_exited, test_subprocess_repr,
// test_cancel_post_init, test_close_dont_kill_finished: there is no transport object),
// test_pause_reading (no `limit` argument: our pipe Streams read in large blocks), the
// text-mode tests (bytes only: std::string), test_start_new_session (not an option here),
// the child-watcher variants (one mechanism: pidfd, with its fallback tested in
// tests/subprocess_test.cpp).
#include <asyncio/asyncio.hpp>

#include <signal.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "support/children.hpp"
#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;

namespace {

class CPythonSubprocess : public asyncio::testing::LoopTest {
protected:
    void SetUp() override {
        LoopTest::SetUp();
        fds_ = asyncio::testing::open_fd_count();
    }
    void TearDown() override {
        LoopTest::TearDown();
        EXPECT_EQ(asyncio::testing::open_fd_count(), fds_) << "file descriptors leaked";
        EXPECT_TRUE(asyncio::testing::no_children()) << "a child is left running or unreaped";
    }

private:
    int fds_ = 0;
};

// PROGRAM_BLOCKED upstream. Its stdout and stderr are not ctest's pipes, so that a crash of
// the test cannot leave ctest waiting for a sleeping child.
Coro<Process> blocked() {
    std::vector<std::string> args{"3600"};
    ProcessOptions opts{.out = DEVNULL, .err = DEVNULL};
    co_return co_await create_subprocess_exec("sleep", args, opts);
}

// PROGRAM_CAT upstream, with stdin and stdout piped.
Coro<Process> cat() {
    std::vector<std::string> no_args;
    ProcessOptions opts{.in = PIPE, .out = PIPE};
    co_return co_await create_subprocess_exec("cat", no_args, opts);
}

// Upstream's `print(len(sys.stdin.read()))`.
const std::vector<std::string> kLenOfStdin{"-c", "wc -c | tr -d ' '"};

}  // namespace

TEST_F(CPythonSubprocess, test_stdin_stdout) {
    auto [code, data] = run([]() -> Coro<std::pair<int, std::string>> {
        Process p = co_await cat();
        p.in.write("some data");
        co_await p.in.drain();
        p.in.close();
        std::string out = co_await p.out.read();
        int rc = co_await p.wait();
        co_return std::pair(rc, out);
    }());
    EXPECT_EQ(code, 0);
    EXPECT_EQ(data, "some data");
}

TEST_F(CPythonSubprocess, test_communicate) {
    auto [code, data] = run([]() -> Coro<std::pair<int, std::string>> {
        Process p = co_await cat();
        auto [out, err] = co_await p.communicate("some data");
        co_return std::pair(*p.returncode(), out);
    }());
    EXPECT_EQ(code, 0);
    EXPECT_EQ(data, "some data");
}

TEST_F(CPythonSubprocess, test_shell) {
    Process p = run(create_subprocess_shell("exit 7"));
    EXPECT_EQ(run(p.wait()), 7);
}

TEST_F(CPythonSubprocess, test_kill) {
    Process p = run(blocked());
    p.kill();
    EXPECT_EQ(run(p.wait()), -SIGKILL);
}

TEST_F(CPythonSubprocess, test_terminate) {
    Process p = run(blocked());
    p.terminate();
    EXPECT_EQ(run(p.wait()), -SIGTERM);
}

TEST_F(CPythonSubprocess, test_send_signal) {
    // Upstream makes sure SIGHUP has its default action in the parent (the child inherits an
    // ignored disposition); so do we.
    struct sigaction old {};
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGHUP, &dfl, &old);
    int code = run([]() -> Coro<int> {
        std::vector<std::string> args{"-c", "echo sleeping; exec sleep 3600"};
        ProcessOptions opts{.out = PIPE, .err = DEVNULL};
        Process p = co_await create_subprocess_exec("/bin/sh", args, opts);
        EXPECT_EQ(co_await p.out.readline(), "sleeping\n");  // it is running now
        p.send_signal(SIGHUP);
        co_return co_await p.wait();
    }());
    ::sigaction(SIGHUP, &old, nullptr);
    EXPECT_EQ(code, -SIGHUP);
}

TEST_F(CPythonSubprocess, test_stdin_broken_pipe) {
    run([]() -> Coro<> {
        std::vector<std::string> no_args;
        ProcessOptions opts{.in = PIPE};
        Process p = co_await create_subprocess_exec("true", no_args, opts);
        co_await p.wait();  // upstream sleeps 0.5 s; waiting for the exit is the exact condition
        p.in.write(std::string(1 << 20, 'x'));  // more than any pipe buffer
        try {
            co_await p.in.drain();
            ADD_FAILURE() << "drain() must raise EPIPE or ECONNRESET";
        } catch (const std::system_error& e) {
            EXPECT_TRUE(e.code().value() == EPIPE || e.code().value() == ECONNRESET) << e.what();
        }
    }());
}

TEST_F(CPythonSubprocess, test_communicate_ignore_broken_pipe) {
    int code = run([]() -> Coro<int> {
        std::vector<std::string> no_args;
        ProcessOptions opts{.in = PIPE};
        Process p = co_await create_subprocess_exec("true", no_args, opts);
        co_await p.communicate(std::string(1 << 20, 'x'));  // must not raise
        co_return co_await p.wait();
    }());
    EXPECT_EQ(code, 0);
}

TEST_F(CPythonSubprocess, test_stdin_not_inheritable) {
    // If the child inherited the parent's end of its own stdin pipe, it would never see EOF
    // and communicate() would hang.
    auto [out, code] = run([]() -> Coro<std::pair<std::string, int>> {
        ProcessOptions opts{.in = PIPE, .out = PIPE, .err = PIPE};
        Process p = co_await create_subprocess_exec("/bin/sh", kLenOfStdin, opts);
        auto [o, e] = co_await p.communicate("abc");
        int rc = co_await p.wait();
        co_return std::pair(o, rc);
    }());
    EXPECT_EQ(out, "3\n");
    EXPECT_EQ(code, 0);
}

TEST_F(CPythonSubprocess, test_empty_input) {
    auto [out, code] = run([]() -> Coro<std::pair<std::string, int>> {
        ProcessOptions opts{.in = PIPE, .out = PIPE, .err = PIPE};
        Process p = co_await create_subprocess_exec("/bin/sh", kLenOfStdin, opts);
        auto [o, e] = co_await p.communicate("");
        int rc = co_await p.wait();
        co_return std::pair(o, rc);
    }());
    EXPECT_EQ(out, "0\n");
    EXPECT_EQ(code, 0);
}

TEST_F(CPythonSubprocess, test_devnull_input) {
    auto [out, code] = run([]() -> Coro<std::pair<std::string, int>> {
        ProcessOptions opts{.in = DEVNULL, .out = PIPE, .err = PIPE};
        Process p = co_await create_subprocess_exec("/bin/sh", kLenOfStdin, opts);
        auto [o, e] = co_await p.communicate();
        int rc = co_await p.wait();
        co_return std::pair(o, rc);
    }());
    EXPECT_EQ(out, "0\n");
    EXPECT_EQ(code, 0);
}

TEST_F(CPythonSubprocess, test_devnull_output) {
    // Upstream gets None for stdout; a stream that is not piped gives "" here.
    auto [out, code] = run([]() -> Coro<std::pair<std::string, int>> {
        ProcessOptions opts{.in = PIPE, .out = DEVNULL, .err = PIPE};
        Process p = co_await create_subprocess_exec("/bin/sh", kLenOfStdin, opts);
        EXPECT_FALSE(p.out);
        auto [o, e] = co_await p.communicate("abc");
        int rc = co_await p.wait();
        co_return std::pair(o, rc);
    }());
    EXPECT_EQ(out, "");
    EXPECT_EQ(code, 0);
}

TEST_F(CPythonSubprocess, test_devnull_error) {
    auto [err, code] = run([]() -> Coro<std::pair<std::string, int>> {
        ProcessOptions opts{.in = PIPE, .out = PIPE, .err = DEVNULL};
        Process p = co_await create_subprocess_exec("/bin/sh", kLenOfStdin, opts);
        EXPECT_FALSE(p.err);
        auto [o, e] = co_await p.communicate("abc");
        EXPECT_EQ(o, "3\n");
        int rc = co_await p.wait();
        co_return std::pair(e, rc);
    }());
    EXPECT_EQ(err, "");
    EXPECT_EQ(code, 0);
}

TEST_F(CPythonSubprocess, test_cancel_process_wait) {
    int code = run([]() -> Coro<int> {
        Process p = co_await blocked();
        Task<int> task = create_task(p.wait());
        get_event_loop().call_soon([task]() mutable { task.cancel(); });
        try {
            co_await task;
            ADD_FAILURE() << "wait() was not cancelled";
        } catch (const CancelledError&) {
        }
        task.cancel();  // cancelling again changes nothing
        p.kill();
        co_return co_await p.wait();
    }());
    EXPECT_EQ(code, -SIGKILL);
}

TEST_F(CPythonSubprocess, test_cancel_make_subprocess_transport_exec) {
    // Cancelled before it runs: no child is started (TearDown checks there is none). The spawn
    // itself never suspends, so there is no "half-started" state to cancel into.
    run([]() -> Coro<> {
        Task<Process> task = create_task(blocked());
        task.cancel();
        EXPECT_THROW((void)co_await task, CancelledError);
        EXPECT_TRUE(asyncio::testing::no_children());
    }());
}

TEST_F(CPythonSubprocess, test_close_kill_running) {
    // Closing while the child runs kills it (upstream: transport.close()); here the loop's close.
    Process p = run(blocked());
    EXPECT_FALSE(p.returncode().has_value());
    get_event_loop().close();
    EXPECT_EQ(p.returncode(), -SIGKILL);
}

TEST_F(CPythonSubprocess, test_popen_error) {
    // A failed start leaves nothing open (upstream: Popen raising; here a program that does not
    // exist): TearDown checks the fds.
    run([]() -> Coro<> {
        std::vector<std::string> no_args;
        ProcessOptions opts;
        EXPECT_THROW((void)co_await create_subprocess_exec("/nonexistent-program", no_args, opts), std::system_error);
    }());
}

TEST_F(CPythonSubprocess, test_popen_error_with_stdin_pipe) {
    run([]() -> Coro<> {
        std::vector<std::string> no_args;
        ProcessOptions opts{.in = PIPE, .out = PIPE, .err = PIPE};
        EXPECT_THROW((void)co_await create_subprocess_exec("/nonexistent-program", no_args, opts), std::system_error);
    }());
}

TEST_F(CPythonSubprocess, test_read_stdout_after_process_exit) {
    // 256 KiB then exit 1; the reader is slow, so the child is gone long before the last read.
    std::size_t total = run([]() -> Coro<std::size_t> {
        std::vector<std::string> args{"-c", "head -c 262144 /dev/zero; exit 1"};
        ProcessOptions opts{.out = PIPE};
        Process p = co_await create_subprocess_exec("/bin/sh", args, opts);
        std::size_t n = 0;
        for (;;) {
            std::string data = co_await p.out.read(65536);
            if (data.empty()) break;
            n += data.size();
            co_await sleep_ms(5);
        }
        EXPECT_EQ(co_await p.wait(), 1);
        co_return n;
    }());
    EXPECT_EQ(total, 262144u);
}

TEST_F(CPythonSubprocess, test_create_subprocess_exec_with_path) {
    // Upstream passes path-like objects; the nearest here: a relative program name resolved in
    // the child's working directory, and a path argument.
    int code = run([]() -> Coro<int> {
        std::vector<std::string> args{"-c", "exit 0", "."};
        ProcessOptions opts{.cwd = "/bin"};
        Process p = co_await create_subprocess_exec("./sh", args, opts);
        co_return co_await p.wait();
    }());
    EXPECT_EQ(code, 0);
}

TEST_F(CPythonSubprocess, test_create_subprocess_with_pidfd) {
    // A loop on another thread runs a child and communicates with it.
    auto in_thread = []() -> std::pair<int, std::string> {
        return run([]() -> Coro<std::pair<int, std::string>> {
            Process p = co_await cat();
            auto [out, err] = co_await p.communicate("some data");
            co_return std::pair(*p.returncode(), out);
        }());
    };
    auto [code, out] = run(to_thread(in_thread));
    EXPECT_EQ(code, 0);
    EXPECT_EQ(out, "some data");
}
