// A loop per core: N echo servers, one per thread, sharing one port through SO_REUSEPORT.
//
//   build/release/examples/multicore_echo server PORT [--loops N]   # serve until Ctrl-C
//   build/release/examples/multicore_echo demo [--loops N] [--clients C]
//
// `demo` starts N loops (default: one per core) on an ephemeral port, has C clients (default 64)
// echo a line each from one more thread, prints how many connections each loop accepted, and
// exits 0 when every echo came back. The kernel picks the loop for each connection by a hash
// of the client's address and port, so the split is uneven but every loop gets its share.
#include <asyncio/asyncio.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

asyncio::Coro<> echo(std::atomic<int>* accepted, asyncio::Stream reader, asyncio::Stream writer) {
    accepted->fetch_add(1, std::memory_order_relaxed);
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

// What the loops share: the port (chosen by loop 0 when asked for port 0) and per-loop counters.
struct Shared {
    explicit Shared(std::size_t loops) : accepted(loops) {}
    std::atomic<std::uint16_t> port{0};
    std::atomic<std::size_t> listening{0};
    std::atomic<bool> stop{false};
    std::vector<std::atomic<int>> accepted;
};

// One loop's main: listen with reuse_port on the shared port until told to stop.
asyncio::Coro<> serve(Shared* shared, std::size_t index, std::uint16_t wanted_port) {
    if (wanted_port == 0 && index > 0) {
        while (shared->port.load() == 0) co_await asyncio::sleep_ms(1);  // loop 0 picks the port
    }
    std::uint16_t port = wanted_port != 0 ? wanted_port : shared->port.load();
    std::atomic<int>* accepted = &shared->accepted[index];
    asyncio::ConnectionCallback callback = [accepted](asyncio::Stream r, asyncio::Stream w) {
        return echo(accepted, std::move(r), std::move(w));
    };
    asyncio::ServerOptions options{.backlog = 128, .reuse_port = true};
    asyncio::Server server = co_await asyncio::start_server(callback, "127.0.0.1", port, options);
    if (index == 0) shared->port.store(server.port());
    shared->listening.fetch_add(1);
    while (!shared->stop.load()) co_await asyncio::sleep_ms(5);
    server.close();
    co_await server.wait_closed();
}

asyncio::Coro<int> clients(std::uint16_t port, int count) {
    int echoed = 0;
    for (int i = 0; i < count; ++i) {
        auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
        std::string line = "hello " + std::to_string(i) + "\n";
        writer.write(line);
        co_await writer.drain();
        if (co_await reader.readline() == line) ++echoed;
        writer.close();
        co_await writer.wait_closed();
    }
    co_return echoed;
}

int option(int argc, char** argv, const char* name, int fallback) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
    }
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    auto loops = static_cast<std::size_t>(std::max(1, option(argc, argv, "--loops", cores)));
    Shared shared(loops);
    if (argc >= 3 && std::strcmp(argv[1], "server") == 0) {
        auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
        std::printf("%zu loops serving echo on 127.0.0.1:%u\n", loops, port);
        asyncio::run_on_threads(loops, [&](std::size_t index) { return serve(&shared, index, port); });
        return 0;
    }
    if (argc >= 2 && std::strcmp(argv[1], "demo") == 0) {
        int count = std::max(1, option(argc, argv, "--clients", 64));
        int echoed = 0;
        std::thread client([&] {
            while (shared.listening.load() < loops) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            echoed = asyncio::run(clients(shared.port.load(), count));
            shared.stop.store(true);
        });
        asyncio::run_on_threads(loops, [&](std::size_t index) { return serve(&shared, index, 0); });
        client.join();
        for (std::size_t i = 0; i < loops; ++i) std::printf("loop %zu accepted %d\n", i, shared.accepted[i].load());
        std::printf("%d of %d echoed\n", echoed, count);
        return echoed == count ? 0 : 1;
    }
    std::fprintf(stderr, "usage: %s demo [--loops N] [--clients C] | server PORT [--loops N]\n", argv[0]);
    return 2;
}
