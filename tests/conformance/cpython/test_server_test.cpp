// Ports of CPython's Lib/test/test_asyncio/test_server.py, UnixServerCleanupTests (behaviour,
// not code): what a Unix server does with its socket file when it closes. One TEST per upstream
// test, named after it; abstract names are an addition (upstream skips them when cleaning up,
// since they have no file).
// Not ported: test_unix_server_sock_cleanup and test_unix_server_cleanup_gone's sock= form (no
// sock= argument here; the "gone" case is ported with a path), test_unix_server_cleanup_prevented
// (no cleanup_socket= argument: the socket file is always removed).
#include <asyncio/asyncio.hpp>

#include <unistd.h>

#include <string>

#include "conformance/cpython/unix_support.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::cpython::exists;
using asyncio::cpython::FdCount;
using asyncio::cpython::UnixSocketPath;
using UnixServerCleanupTests = asyncio::testing::LoopTest;

namespace {

Coro<> serve(Stream, Stream) { co_return; }

}  // namespace

TEST_F(UnixServerCleanupTests, test_unix_server_addr_cleanup) {
    FdCount fds;
    auto main = []() -> Coro<> {
        UnixSocketPath sp("addr_cleanup");
        Server srv = co_await start_unix_server(serve, sp.path);
        EXPECT_TRUE(exists(sp.path));
        srv.close();
        EXPECT_FALSE(exists(sp.path));  // at close(), before wait_closed()
        co_await srv.wait_closed();
    };
    run(main());
}

TEST_F(UnixServerCleanupTests, test_unix_server_cleanup_gone) {
    // Someone else has removed the socket file already: close() is quiet about it.
    FdCount fds;
    auto main = []() -> Coro<> {
        UnixSocketPath sp("cleanup_gone");
        Server srv = co_await start_unix_server(serve, sp.path);
        EXPECT_EQ(::unlink(sp.path.c_str()), 0);
        srv.close();
        co_await srv.wait_closed();
        EXPECT_FALSE(exists(sp.path));
    };
    run(main());
}

TEST_F(UnixServerCleanupTests, test_unix_server_cleanup_replaced) {
    // Someone else has replaced the socket file with their own: it is not ours to remove.
    FdCount fds;
    auto main = []() -> Coro<> {
        UnixSocketPath sp("cleanup_replaced");
        Server srv = co_await start_unix_server(serve, sp.path);
        EXPECT_EQ(::unlink(sp.path.c_str()), 0);
        int theirs = asyncio::cpython::bind_plain_unix_socket(sp.path);
        srv.close();
        co_await srv.wait_closed();
        EXPECT_TRUE(asyncio::cpython::is_socket_file(sp.path));
        ::close(theirs);
    };
    run(main());
}

TEST_F(UnixServerCleanupTests, test_unix_server_addr_cleanup_abstract) {
    // A Linux abstract name has no file: serving and closing touch nothing on disk, and the
    // name is free again after close().
    FdCount fds;
    auto main = []() -> Coro<> {
        const std::string name = std::string(1, '\0') + "asyncio_cpython_" + std::to_string(::getpid());
        Server srv = co_await start_unix_server(serve, name);
        auto [r, w] = co_await open_unix_connection(name);
        EXPECT_EQ(w.get_extra_info("peername").host, name);
        w.close();
        co_await w.wait_closed();
        srv.close();
        co_await srv.wait_closed();
        Server again = co_await start_unix_server(serve, name);  // the name was released
        again.close();
        co_await again.wait_closed();
    };
    run(main());
}
