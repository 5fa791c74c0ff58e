// UDP echo server: `asyncio_bench udp-server PORT` serves 127.0.0.1:PORT until killed: one task
// receives a datagram (recvfrom) and sends it back to its sender (sendto), as the peers' UDP echo
// servers under bench/peers/ do; bench/udp_loadgen.cpp drives them, bench/peers/udp.sh runs all.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "workload.hpp"

namespace {

asyncio::Coro<void> serve_udp(std::uint16_t port) {
    asyncio::Address local{"127.0.0.1", port};
    asyncio::DatagramSocket sock = co_await asyncio::create_datagram_endpoint(local, std::nullopt);
    for (;;) {
        auto [data, from] = co_await sock.recvfrom();
        co_await sock.sendto(std::move(data), std::move(from));
    }
}

}  // namespace

int bench::run_udp_server(int argc, char** argv) {
    long port = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 0;
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: %s udp-server PORT\n", argv[0]);
        return 2;
    }
    try {
        asyncio::run(serve_udp(static_cast<std::uint16_t>(port)));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "udp-server: %s\n", e.what());
        return 1;
    }
    return 0;
}
