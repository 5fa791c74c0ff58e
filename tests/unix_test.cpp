// Unix domain stream sockets: open_unix_connection / start_unix_server (CPython's
// test_unix_events.py socket tests, as behaviour): echo, abstract names, stale socket files,
// cleanup on close, errors, TLS, and every fd given back.
#include <asyncio/asyncio.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "support/certs.hpp"
#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::testing::open_fd_count;
using asyncio::testing::FdCount;
using UnixTest = asyncio::testing::LoopTest;

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_socket_file(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

/// A fresh path in /tmp for this test, removed (if still there) at the end.
struct SocketPath {
    std::string path;
    explicit SocketPath(const char* tag) : path("/tmp/asyncio_unix_" + std::to_string(::getpid()) + "_" + tag) {
        ::unlink(path.c_str());
    }
    ~SocketPath() { ::unlink(path.c_str()); }
};

int g_handlers = 0;  // connection handlers running now
int g_handled = 0;   // connection handlers finished

Coro<> echo(Stream reader, Stream writer) {
    ++g_handlers;
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
    --g_handlers;
    ++g_handled;
}

Coro<> handlers_done(int expected) {
    for (int i = 0; i < 5'000 && (g_handled < expected || g_handlers > 0); ++i) co_await sleep_ms(1);
    EXPECT_EQ(g_handled, expected);
    EXPECT_EQ(g_handlers, 0);
}

Coro<std::string> round_trip(std::string path, std::string line) {
    auto [r, w] = co_await open_unix_connection(path);
    w.write(line);
    co_await w.drain();
    std::string back = co_await r.readline();
    w.close();
    co_await w.wait_closed();
    co_return back;
}

}  // namespace

TEST_F(UnixTest, EchoOverAUnixSocket) {
    FdCount fds;
    g_handlers = g_handled = 0;
    auto main = []() -> Coro<> {
        SocketPath sp("echo");
        Server server = co_await start_unix_server(echo, sp.path);
        EXPECT_TRUE(is_socket_file(sp.path));
        EXPECT_EQ(server.port(), 0);
        auto [r, w] = co_await open_unix_connection(sp.path);
        EXPECT_EQ(w.get_extra_info("peername"), (Address{sp.path, 0}));
        EXPECT_EQ(w.get_extra_info("sockname"), (Address{"", 0}));  // an unnamed client socket
        w.write("hello unix\n");
        co_await w.drain();
        EXPECT_EQ(co_await r.readline(), "hello unix\n");
        w.close();
        co_await w.wait_closed();
        co_await handlers_done(1);
        server.close();
        co_await server.wait_closed();
    };
    run(main());
}

TEST_F(UnixTest, ManyClientsAtOnce) {
    FdCount fds;
    g_handlers = g_handled = 0;
    auto main = []() -> Coro<> {
        SocketPath sp("many");
        Server server = co_await start_unix_server(echo, sp.path);
        std::vector<Task<std::string>> clients;
        for (int i = 0; i < 20; ++i) clients.push_back(create_task(round_trip(sp.path, std::to_string(i) + "\n")));
        for (int i = 0; i < 20; ++i) EXPECT_EQ(co_await clients[i], std::to_string(i) + "\n");
        co_await handlers_done(20);
        server.close();
        co_await server.wait_closed();
    };
    run(main());
}

TEST_F(UnixTest, AnAbstractNameLeavesNoFile) {
    FdCount fds;
    g_handlers = g_handled = 0;
    auto main = []() -> Coro<> {
        std::string name = std::string(1, '\0') + "asyncio_abstract_" + std::to_string(::getpid());
        Server server = co_await start_unix_server(echo, name);
        EXPECT_FALSE(exists(name.substr(1)));
        auto [r, w] = co_await open_unix_connection(name);
        EXPECT_EQ(w.get_extra_info("peername").host, name);  // every byte, the leading NUL too
        w.write("abstract\n");
        co_await w.drain();
        EXPECT_EQ(co_await r.readline(), "abstract\n");
        w.close();
        co_await w.wait_closed();
        co_await handlers_done(1);
        server.close();
        co_await server.wait_closed();
        try {
            (void)co_await open_unix_connection(name);
            ADD_FAILURE() << "the abstract name should be gone with its server";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();
            EXPECT_NE(std::string(e.what()).find("unix:@asyncio_abstract_"), std::string::npos) << e.what();
        }
    };
    run(main());
}

TEST_F(UnixTest, AStaleSocketFileIsReplaced) {
    FdCount fds;
    g_handlers = g_handled = 0;
    auto main = []() -> Coro<> {
        SocketPath sp("stale");
        {  // a previous run that died without cleaning up: a socket file nobody listens on
            int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un a{};
            a.sun_family = AF_UNIX;
            std::strcpy(a.sun_path, sp.path.c_str());
            EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
            ::close(fd);
        }
        EXPECT_TRUE(is_socket_file(sp.path));
        try {
            (void)co_await open_unix_connection(sp.path);
            ADD_FAILURE() << "nobody listens on a stale socket";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();
        }
        Server server = co_await start_unix_server(echo, sp.path);
        EXPECT_EQ(co_await round_trip(sp.path, "fresh\n"), "fresh\n");
        co_await handlers_done(1);
        server.close();
        co_await server.wait_closed();
    };
    run(main());
}

TEST_F(UnixTest, AFileThatIsNotASocketIsLeftAloneAndBindFails) {
    FdCount fds;
    auto main = []() -> Coro<> {
        SocketPath sp("regular");
        int fd = ::open(sp.path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ::close(fd);
        try {
            (void)co_await start_unix_server(echo, sp.path);
            ADD_FAILURE() << "bind should fail on a regular file";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EADDRINUSE) << e.what();
            EXPECT_NE(std::string(e.what()).find("bind unix:" + sp.path), std::string::npos) << e.what();
        }
        struct stat st {};
        EXPECT_EQ(::lstat(sp.path.c_str(), &st), 0);
        EXPECT_TRUE(S_ISREG(st.st_mode)) << "a file that is not a socket must never be removed";
    };
    run(main());
}

TEST_F(UnixTest, TheSocketFileIsRemovedWhenTheServerCloses) {
    FdCount fds;
    auto main = []() -> Coro<> {
        SocketPath sp("closed");
        Server server = co_await start_unix_server(echo, sp.path);
        EXPECT_TRUE(is_socket_file(sp.path));
        server.close();
        EXPECT_FALSE(exists(sp.path));
        co_await server.wait_closed();
        {
            Server dropped = co_await start_unix_server(echo, sp.path);
            EXPECT_TRUE(is_socket_file(sp.path));
        }
        EXPECT_FALSE(exists(sp.path)) << "dropping the server removes its file too";
    };
    run(main());
}

TEST_F(UnixTest, AFileThatReplacedOursIsNotRemovedOnClose) {
    FdCount fds;
    auto main = []() -> Coro<> {
        SocketPath sp("replaced");
        Server first = co_await start_unix_server(echo, sp.path);
        Server second = co_await start_unix_server(echo, sp.path);  // takes the path over
        first.close();
        co_await first.wait_closed();
        EXPECT_TRUE(is_socket_file(sp.path)) << "the first server removed the second one's file";
        second.close();
        co_await second.wait_closed();
        EXPECT_FALSE(exists(sp.path));
    };
    run(main());
}

TEST_F(UnixTest, ConnectingToAMissingPathRaisesEnoent) {
    FdCount fds;
    auto main = []() -> Coro<> {
        try {
            (void)co_await open_unix_connection("/tmp/asyncio_no_such_socket_here");
            ADD_FAILURE() << "connect should fail";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ENOENT);
            EXPECT_NE(std::string(e.what()).find("connect unix:/tmp/asyncio_no_such_socket_here"), std::string::npos)
                << e.what();
        }
    };
    run(main());
}

TEST_F(UnixTest, APathTooLongOrEmptyIsRefusedWithAClearError) {
    FdCount fds;
    auto main = []() -> Coro<> {
        const std::string longest(107, 'a');  // a filesystem path needs its NUL: 107 bytes at most
        const std::string too_long = "/tmp/" + std::string(103, 'a');
        EXPECT_EQ(too_long.size(), 108u);
        EXPECT_LE(longest.size(), 107u);
        try {
            (void)co_await open_unix_connection(too_long);
            ADD_FAILURE() << "a 108-byte path should be refused";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("at most 107"), std::string::npos) << e.what();
        }
        bool refused = false;
        try {
            (void)co_await start_unix_server(echo, too_long);
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        refused = false;
        try {
            (void)co_await open_unix_connection("");
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        refused = false;
        try {  // an abstract name may use all 108 bytes, but no more
            (void)co_await open_unix_connection(std::string(1, '\0') + std::string(108, 'b'));
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    };
    run(main());
}

TEST_F(UnixTest, TlsOverAUnixSocket) {
    FdCount fds;
    g_handlers = g_handled = 0;
    const auto& certs = asyncio::testing::test_certs();
    auto main = [&certs]() -> Coro<> {
        SocketPath sp("tls");
        ssl::SSLContext server_ctx(ssl::PROTOCOL_TLS_SERVER);
        server_ctx.load_cert_chain(certs.server_pem, certs.server_key);
        Server server = co_await start_unix_server(echo, sp.path, 100, server_ctx);
        ssl::SSLContext client_ctx(ssl::PROTOCOL_TLS_CLIENT);
        client_ctx.load_verify_locations(certs.ca_pem);
        bool refused = false;
        try {
            (void)co_await open_unix_connection(sp.path, client_ctx, "");
        } catch (const std::invalid_argument&) {
            refused = true;  // no host to check the certificate against
        }
        EXPECT_TRUE(refused);
        auto [r, w] = co_await open_unix_connection(sp.path, client_ctx, "localhost");
        w.write("secret\n");
        co_await w.drain();
        EXPECT_EQ(co_await r.readline(), "secret\n");
        w.close();
        co_await w.wait_closed();
        co_await handlers_done(1);
        server.close();
        co_await server.wait_closed();
    };
    run(main());
}
