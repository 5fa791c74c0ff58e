// Ports of CPython's Lib/test/test_asyncio/test_unix_events.py (behaviour, not code): the
// signal tests of SelectorEventLoopSignalTests and the Unix socket tests of
// SelectorEventLoopUnixSocketTests, one TEST per upstream test, named after it. Upstream
// replaces the signal module with a mock; here the signals, dispositions and sockets are real.
//
// Not ported (no C++ counterpart): test_handle_signal_no_handler and
// test_handle_signal_cancelled_handler (the private _handle_signal), the *_setup_error /
// *_install_error / *_cleanup_error / *_error2 tests (they make a mocked signal.signal() or
// set_wakeup_fd() fail; sigaction() on a valid, catchable number does not fail),
// test_close_on_finalizing (interpreter shutdown), the pathlib / sock= / ssl=True /
// ssl_handshake_timeout argument checks (C++ types rule them out at compile time).
// test_add_signal_handler_coroutine_error is a compile-fail check:
// tests/compile_fail/callback_coroutine.cpp.
#include <asyncio/asyncio.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include "conformance/cpython/unix_support.hpp"
#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace test_unix_events_test {

using namespace asyncio;
using asyncio::cpython::disposition;
using asyncio::cpython::FdCount;
using asyncio::cpython::UnixSocketPath;
using SelectorEventLoopSignalTests = asyncio::testing::LoopTest;
using SelectorEventLoopUnixSocketTests = asyncio::testing::LoopTest;

namespace {

Coro<> ignore_client(Stream, Stream) { co_return; }

/// Runs the loop until `ev` is set (the signal handler sets it), failing after 10 s.
void run_until_set(Event& ev) {
    run([](Event* e) -> Coro<> { co_await wait_for(e->wait(), 10.0); }(&ev));
}

}  // namespace

// ---- SelectorEventLoopSignalTests ----

TEST_F(SelectorEventLoopSignalTests, test_check_signal) {
    Loop& loop = get_event_loop();
    EXPECT_THROW(loop.add_signal_handler(NSIG + 1, [] {}), std::invalid_argument);
    EXPECT_THROW(loop.remove_signal_handler(NSIG + 1), std::invalid_argument);
}

TEST_F(SelectorEventLoopSignalTests, test_add_signal_handler) {
    // Upstream checks that the handler is stored; here: it is installed and it runs.
    Loop& loop = get_event_loop();
    Event got;
    loop.add_signal_handler(SIGHUP, [&got] { got.set(); });
    EXPECT_NE(disposition(SIGHUP), SIG_DFL);
    EXPECT_NE(disposition(SIGHUP), SIG_IGN);
    ::kill(::getpid(), SIGHUP);
    run_until_set(got);
    EXPECT_TRUE(got.is_set());
    EXPECT_TRUE(loop.remove_signal_handler(SIGHUP));
}

TEST_F(SelectorEventLoopSignalTests, test_remove_signal_handler) {
    Loop& loop = get_event_loop();
    loop.add_signal_handler(SIGHUP, [] {});
    EXPECT_TRUE(loop.remove_signal_handler(SIGHUP));
    EXPECT_EQ(disposition(SIGHUP), SIG_DFL);
}

TEST_F(SelectorEventLoopSignalTests, test_remove_signal_handler_2) {
    // Removing SIGINT restores its default (upstream: Python's default_int_handler, which
    // raises KeyboardInterrupt; for a C++ program the default is SIG_DFL) and leaves the
    // other signal's handler in place and working.
    Loop& loop = get_event_loop();
    loop.add_signal_handler(SIGINT, [] {});
    Event hup;
    loop.add_signal_handler(SIGHUP, [&hup] { hup.set(); });
    EXPECT_TRUE(loop.remove_signal_handler(SIGINT));
    EXPECT_EQ(disposition(SIGINT), SIG_DFL);
    EXPECT_NE(disposition(SIGHUP), SIG_DFL);
    ::kill(::getpid(), SIGHUP);
    run_until_set(hup);
    EXPECT_TRUE(hup.is_set());
    EXPECT_TRUE(loop.remove_signal_handler(SIGHUP));
}

TEST_F(SelectorEventLoopSignalTests, test_close) {
    Loop& loop = get_event_loop();
    loop.add_signal_handler(SIGHUP, [] {});
    loop.add_signal_handler(SIGCHLD, [] {});
    EXPECT_NE(disposition(SIGHUP), SIG_DFL);
    EXPECT_NE(disposition(SIGCHLD), SIG_DFL);
    loop.close();
    EXPECT_EQ(disposition(SIGHUP), SIG_DFL);
    EXPECT_EQ(disposition(SIGCHLD), SIG_DFL);
    EXPECT_FALSE(loop.remove_signal_handler(SIGHUP));  // none left
    EXPECT_THROW(loop.add_signal_handler(SIGHUP, [] {}), RuntimeError);  // the loop is closed
}

// ---- SelectorEventLoopUnixSocketTests ----

TEST_F(SelectorEventLoopUnixSocketTests, test_create_unix_server_existing_path_sock) {
    // A socket file left by a listener that has gone (bound, listened, closed) is stale: the
    // server replaces it.
    FdCount fds;
    auto main = []() -> Coro<> {
        UnixSocketPath sp("existing_sock");
        int fd = asyncio::cpython::bind_plain_unix_socket(sp.path);
        EXPECT_EQ(::listen(fd, 1), 0);
        ::close(fd);
        EXPECT_TRUE(asyncio::cpython::is_socket_file(sp.path));
        Server srv = co_await start_unix_server(ignore_client, sp.path);
        srv.close();
        co_await srv.wait_closed();
    };
    run(main());
}

TEST_F(SelectorEventLoopUnixSocketTests, test_create_unix_server_existing_path_nonsock) {
    // A file that is not a socket is never removed: bind fails with "Address already in use".
    FdCount fds;
    auto main = []() -> Coro<> {
        UnixSocketPath sp("existing_file");
        int fd = ::open(sp.path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        EXPECT_GE(fd, 0);
        ::close(fd);
        try {
            (void)co_await start_unix_server(ignore_client, sp.path);
            ADD_FAILURE() << "bind over a regular file succeeded";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EADDRINUSE);
            EXPECT_NE(std::string(e.what()).find("Address already in use"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(asyncio::cpython::exists(sp.path));
        EXPECT_FALSE(asyncio::cpython::is_socket_file(sp.path));
    };
    run(main());
}

TEST_F(SelectorEventLoopUnixSocketTests, test_create_unix_connection_pathlib) {
    // Upstream: a path nobody serves raises FileNotFoundError (ENOENT).
    FdCount fds;
    auto main = []() -> Coro<> {
        UnixSocketPath sp("nobody");
        try {
            (void)co_await open_unix_connection(sp.path);
            ADD_FAILURE() << "connected to a missing path";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT) << e.what();
        }
    };
    run(main());
}

TEST_F(SelectorEventLoopUnixSocketTests, test_create_unix_connection_ssl_noserverhost) {
    // TLS over a Unix socket has no host name to verify: server_hostname is required.
    FdCount fds;
    auto main = []() -> Coro<> {
        ssl::SSLContext client(ssl::PROTOCOL_TLS_CLIENT);
        bool refused = false;
        try {
            (void)co_await open_unix_connection("/dev/null", client, "");
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    };
    run(main());
}

TEST_F(SelectorEventLoopUnixSocketTests, test_create_unix_server_bind_error) {
    // The socket is closed on a bind error (upstream checks sock.close() on a mock; here the
    // process's fd count is back where it was).
    FdCount fds;
    auto main = []() -> Coro<> {
        const std::string path = "/nonexistent-dir-" + std::to_string(::getpid()) + "/test.sock";
        try {
            (void)co_await start_unix_server(ignore_client, path);
            ADD_FAILURE() << "bound in a missing directory";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT) << e.what();
        }
    };
    run(main());
}

}  // namespace test_unix_events_test
