// Graceful shutdown on SIGTERM / SIGINT with Loop::add_signal_handler: an echo server on a TCP
// port and a Unix socket at once that, when told to stop, closes both listening sockets at once
// (new clients are refused; the Unix socket file is removed), lets the connections already open
// finish their conversation, and exits 0.
//
//   build/release/examples/graceful_server 8888 /tmp/echo.sock   # serve; Ctrl-C or `kill <pid>`
//   build/release/examples/graceful_server --self [TERM|INT]      # self-test (CI)
//
// --self: one TCP client and one Unix-socket client keep talking across the signal the process
// sends itself (SIGTERM by default, or SIGINT); new connections after it must be refused on both.
//
// The signal handler is an ordinary callback on the loop's thread (not a POSIX handler), so it
// may touch events, tasks and streams freely.
#include <asyncio/asyncio.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

namespace {

struct Shutdown {
    asyncio::Event requested;  // set by the signal handler
    asyncio::Event closed;     // set once both listening sockets are closed
    asyncio::Event drained;    // set when the last open connection ends
    int open = 0;
};
Shutdown* g_shutdown = nullptr;

asyncio::Coro<> echo_lines(asyncio::Stream reader, asyncio::Stream writer) {
    Shutdown& s = *g_shutdown;
    ++s.open;
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;  // the client is done
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
    if (--s.open == 0) s.drained.set();
}

/// Where the self-test connects: a TCP port or a Unix socket path.
struct Endpoint {
    std::uint16_t port = 0;
    std::string path;  // empty: TCP
};

asyncio::Coro<std::pair<asyncio::Stream, asyncio::Stream>> connect(Endpoint to) {
    if (to.path.empty()) co_return co_await asyncio::open_connection("127.0.0.1", to.port);
    co_return co_await asyncio::open_unix_connection(to.path);
}

asyncio::Coro<std::string> echo_once(asyncio::Stream& reader, asyncio::Stream& writer, std::string line) {
    writer.write(line);
    co_await writer.drain();
    co_return co_await reader.readline();
}

/// One client of the self-test: talks before the signal, waits until the server has stopped
/// accepting, checks that a new connection is refused, then talks again on its open connection.
asyncio::Coro<bool> client(Endpoint to, asyncio::Event& connected) {
    const char* name = to.path.empty() ? "tcp " : "unix";
    auto [reader, writer] = co_await connect(to);
    const std::string before = std::string(name) + " before the signal\n";
    const std::string after = std::string(name) + " after the signal\n";
    std::string first = co_await echo_once(reader, writer, before);
    std::printf("client %s: echo '%.*s'\n", name, static_cast<int>(first.size()) - 1, first.c_str());
    connected.set();
    co_await g_shutdown->closed.wait();
    bool refused = false;
    try {
        auto late = co_await connect(to);
        late.second.close();
    } catch (const std::system_error& e) {
        refused = true;
        std::printf("client %s: a new connection is refused (%s)\n", name, e.what());
    }
    std::string second = co_await echo_once(reader, writer, after);
    std::printf("client %s: echo '%.*s'\n", name, static_cast<int>(second.size()) - 1, second.c_str());
    writer.close();
    co_await writer.wait_closed();
    co_return refused && first == before && second == after;
}

/// --self: both clients connect, then the process signals itself.
asyncio::Coro<bool> self_test(std::uint16_t port, std::string path, int sig) {
    asyncio::Event tcp_connected, unix_connected;
    auto tcp = asyncio::create_task(client(Endpoint{port, {}}, tcp_connected));
    auto local = asyncio::create_task(client(Endpoint{0, path}, unix_connected));
    co_await tcp_connected.wait();
    co_await unix_connected.wait();
    std::printf("client: sending %s to the server (this process)\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    ::kill(::getpid(), sig);
    bool tcp_ok = co_await tcp;
    bool unix_ok = co_await local;
    co_return tcp_ok && unix_ok;
}

asyncio::Coro<int> serve(std::uint16_t port, std::string path, bool self, int self_signal) {
    Shutdown s;
    g_shutdown = &s;
    asyncio::Loop& loop = asyncio::get_event_loop();
    asyncio::Server tcp = co_await asyncio::start_server(echo_lines, "127.0.0.1", port);
    asyncio::Server local = co_await asyncio::start_unix_server(echo_lines, path);
    for (int sig : {SIGTERM, SIGINT}) {
        loop.add_signal_handler(sig, [&s, sig] {
            std::printf("server: got %s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            s.requested.set();
        });
    }
    std::printf("server: listening on 127.0.0.1:%u and %s (pid %d)\n", tcp.port(), path.c_str(),
                static_cast<int>(::getpid()));
    std::fflush(stdout);
    asyncio::Task<bool> test;
    if (self) test = asyncio::create_task(self_test(tcp.port(), path, self_signal));

    co_await s.requested.wait();
    tcp.close();  // stop accepting now
    local.close();  // also removes the socket file
    co_await tcp.wait_closed();
    co_await local.wait_closed();
    s.closed.set();
    std::printf("server: not accepting; waiting for %d open connection(s)\n", s.open);
    if (s.open > 0) co_await s.drained.wait();
    std::printf("server: all connections finished, exiting\n");
    loop.remove_signal_handler(SIGTERM);
    loop.remove_signal_handler(SIGINT);
    if (self) {
        bool ok = co_await test;
        struct stat st{};
        bool removed = ::stat(path.c_str(), &st) != 0;
        std::printf("self-test: socket file %s\n", removed ? "removed" : "LEFT BEHIND");
        ok = ok && removed;
        std::printf("self-test: %s\n", ok ? "OK" : "FAILED");
        co_return ok ? 0 : 1;
    }
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool self = argc > 1 && std::strcmp(argv[1], "--self") == 0;
    if (self) {
        int sig = SIGTERM;
        if (argc > 2 && std::strcmp(argv[2], "INT") == 0) sig = SIGINT;
        else if (argc > 2 && std::strcmp(argv[2], "TERM") != 0) {
            std::fprintf(stderr, "usage: %s --self [TERM|INT]\n", argv[0]);
            return 2;
        }
        std::string path = "/tmp/graceful_server-" + std::to_string(::getpid()) + ".sock";
        return asyncio::run(serve(0, path, true, sig));
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s PORT SOCKET_PATH | --self [TERM|INT]\n", argv[0]);
        return 2;
    }
    auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    return asyncio::run(serve(port, argv[2], false, 0));
}
