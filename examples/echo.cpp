// TCP echo: a server and a client in one program.
//
//   build/release/examples/echo server 8888          # serve until Ctrl-C
//   build/release/examples/echo client 8888 hello    # send a line, print the echo
//   build/release/examples/echo demo                 # both on an ephemeral port, then exit
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

asyncio::Coro<> handle(asyncio::Stream reader, asyncio::Stream writer) {
    auto [host, port] = writer.get_extra_info("peername");
    std::printf("connection from %s:%u\n", host.c_str(), port);
    for (;;) {
        std::string data = co_await reader.read(4096);
        if (data.empty()) break;  // the client closed its side
        writer.write(data);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
    std::printf("closed %s:%u\n", host.c_str(), port);
}

asyncio::Coro<std::string> client(std::uint16_t port, std::string message) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    writer.write(message + "\n");
    co_await writer.drain();
    std::string reply = co_await reader.readline();
    writer.close();
    co_await writer.wait_closed();
    co_return reply;
}

asyncio::Coro<> serve_forever(std::uint16_t port) {
    asyncio::Server server = co_await asyncio::start_server(handle, "127.0.0.1", port);
    std::printf("echo server on 127.0.0.1:%u\n", server.port());
    co_await server.wait_closed();  // runs until the process is stopped
}

asyncio::Coro<int> demo() {
    asyncio::Server server = co_await asyncio::start_server(handle, "127.0.0.1", 0);
    std::string reply = co_await client(server.port(), "hello, echo");
    std::printf("client got: %s", reply.c_str());
    server.close();
    co_await server.wait_closed();
    co_await asyncio::sleep_ms(10);  // let the connection task print its goodbye
    co_return reply == "hello, echo\n" ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "demo") == 0) return asyncio::run(demo());
    if (argc == 3 && std::strcmp(argv[1], "server") == 0) {
        asyncio::run(serve_forever(static_cast<std::uint16_t>(std::atoi(argv[2]))));
        return 0;
    }
    if (argc == 4 && std::strcmp(argv[1], "client") == 0) {
        std::string reply = asyncio::run(client(static_cast<std::uint16_t>(std::atoi(argv[2])), argv[3]));
        std::printf("%s", reply.c_str());
        return 0;
    }
    std::fprintf(stderr, "usage: %s demo | server PORT | client PORT MESSAGE\n", argv[0]);
    return 2;
}
