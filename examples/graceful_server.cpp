// Graceful shutdown on SIGTERM / SIGINT with Loop::add_signal_handler: a TCP echo server that,
// when told to stop, closes its listening socket at once (new clients are refused), lets the
// connections already open finish their conversation, and exits 0. TCP only: the library has
// no Unix-socket server yet.
//
//   build/release/examples/graceful_server 8888     # serve; Ctrl-C or `kill <pid>` to stop
//   build/release/examples/graceful_server --self   # a client talks across a SIGTERM it sends (CI)
//
// The signal handler is an ordinary callback on the loop's thread (not a POSIX handler), so it
// may touch events, tasks and streams freely.
#include <asyncio/asyncio.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

namespace {

struct Shutdown {
    asyncio::Event requested;  // set by the signal handler
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

/// --self: one client keeps talking across the SIGTERM it sends; a second client, after the
/// signal, must be refused. Returns true if everything happened so.
asyncio::Coro<bool> self_test(std::uint16_t port) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    writer.write("before the signal\n");
    co_await writer.drain();
    std::string first = co_await reader.readline();
    std::printf("client: echo '%.*s'\n", static_cast<int>(first.size()) - 1, first.c_str());
    std::printf("client: sending SIGTERM to the server (this process)\n");
    ::kill(::getpid(), SIGTERM);
    co_await asyncio::sleep_ms(50);  // the server has stopped accepting by now
    bool refused = false;
    try {
        auto late = co_await asyncio::open_connection("127.0.0.1", port);
        late.second.close();
    } catch (const std::system_error& e) {
        refused = true;
        std::printf("client: a new connection is refused (%s)\n", e.what());
    }
    writer.write("after the signal\n");  // the open connection is still served
    co_await writer.drain();
    std::string second = co_await reader.readline();
    std::printf("client: echo '%.*s'\n", static_cast<int>(second.size()) - 1, second.c_str());
    writer.close();
    co_await writer.wait_closed();
    co_return refused && first == "before the signal\n" && second == "after the signal\n";
}

asyncio::Coro<int> serve(std::uint16_t port, bool self) {
    Shutdown s;
    g_shutdown = &s;
    asyncio::Loop& loop = asyncio::get_event_loop();
    asyncio::Server server = co_await asyncio::start_server(echo_lines, "127.0.0.1", port);
    for (int sig : {SIGTERM, SIGINT}) {
        loop.add_signal_handler(sig, [&s, sig] {
            std::printf("server: got %s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            s.requested.set();
        });
    }
    std::printf("server: listening on 127.0.0.1:%u (pid %d)\n", server.port(), static_cast<int>(::getpid()));
    std::fflush(stdout);
    asyncio::Task<bool> client;
    if (self) client = asyncio::create_task(self_test(server.port()));

    co_await s.requested.wait();
    server.close();  // stop accepting now
    co_await server.wait_closed();
    std::printf("server: not accepting; waiting for %d open connection(s)\n", s.open);
    if (s.open > 0) co_await s.drained.wait();
    std::printf("server: all connections finished, exiting\n");
    loop.remove_signal_handler(SIGTERM);
    loop.remove_signal_handler(SIGINT);
    if (self) {
        bool ok = co_await client;
        std::printf("self-test: %s\n", ok ? "OK" : "FAILED");
        co_return ok ? 0 : 1;
    }
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool self = argc > 1 && std::strcmp(argv[1], "--self") == 0;
    std::uint16_t port = 0;
    if (!self) {
        if (argc < 2) {
            std::fprintf(stderr, "usage: %s PORT | --self\n", argv[0]);
            return 2;
        }
        port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    }
    return asyncio::run(serve(port, self));
}
