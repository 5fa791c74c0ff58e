// UDP echo: a datagram server and client in one program (create_datagram_endpoint).
//
//   build/release/examples/udp_echo server 9999          # echo datagrams until Ctrl-C
//   build/release/examples/udp_echo client 9999 hello    # send one, print the reply
//   build/release/examples/udp_echo demo                 # both on an ephemeral port, then exit
//
// UDP may lose datagrams: the client gives up after a second (asyncio::timeout) instead of
// waiting forever for a reply that will not come.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace {

// Echoes `count` datagrams (count < 0: forever) to whoever sent them.
asyncio::Coro<> serve(asyncio::DatagramSocket socket, int count) {
    for (int i = 0; count < 0 || i < count; ++i) {
        auto [data, from] = co_await socket.recvfrom();
        std::printf("%zu bytes from %s:%u\n", data.size(), from.host.c_str(), from.port);
        co_await socket.sendto(data, from);
    }
}

// A connected client: send() needs no address, and only the server's datagrams arrive.
asyncio::Coro<std::string> ask(asyncio::Address server, std::string message) {
    asyncio::DatagramSocket socket = co_await asyncio::create_datagram_endpoint(std::nullopt, server);
    co_await socket.send(message);
    auto reply = co_await asyncio::timeout(1.0, socket.recvfrom());
    socket.close();
    co_return reply.first;
}

asyncio::Coro<> serve_forever(std::uint16_t port) {
    const asyncio::Address local{"127.0.0.1", port};  // named first: see docs/pitfalls.md
    asyncio::DatagramSocket socket = co_await asyncio::create_datagram_endpoint(local, std::nullopt);
    std::printf("udp echo on 127.0.0.1:%u\n", socket.get_extra_info("sockname").port);
    co_await serve(socket, -1);
}

asyncio::Coro<int> demo() {
    const asyncio::Address local{"127.0.0.1", 0};
    asyncio::DatagramSocket server = co_await asyncio::create_datagram_endpoint(local, std::nullopt);
    asyncio::Task<> serving = asyncio::create_task(serve(server, 1));
    std::string reply = co_await ask(server.get_extra_info("sockname"), "hello, udp");
    std::printf("client got: %s\n", reply.c_str());
    co_await serving;
    server.close();
    co_return reply == "hello, udp" ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc >= 2 && std::strcmp(argv[1], "demo") == 0) return asyncio::run(demo());
        if (argc == 3 && std::strcmp(argv[1], "server") == 0) {
            asyncio::run(serve_forever(static_cast<std::uint16_t>(std::atoi(argv[2]))));
            return 0;
        }
        if (argc == 4 && std::strcmp(argv[1], "client") == 0) {
            const asyncio::Address server{"127.0.0.1", static_cast<std::uint16_t>(std::atoi(argv[2]))};
            std::printf("%s\n", asyncio::run(ask(server, argv[3])).c_str());
            return 0;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "udp_echo: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: %s demo | server PORT | client PORT MESSAGE\n", argv[0]);
    return 2;
}
