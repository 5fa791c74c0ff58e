// A line-based chat server: every line a client sends goes to every other client.
//
//   build/release/examples/chat 9999         # then: nc 127.0.0.1 9999 (in several terminals)
//   build/release/examples/chat demo         # three scripted clients on an ephemeral port
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <string>
#include <vector>

namespace {

std::list<asyncio::Stream> g_clients;  // the loop is single-threaded: no lock needed

asyncio::Coro<> broadcast(std::string line, asyncio::Stream from) {
    // A copy: other clients may join or leave while this task waits in drain().
    std::vector<asyncio::Stream> clients(g_clients.begin(), g_clients.end());
    for (asyncio::Stream& c : clients) {
        if (c == from) continue;
        try {
            c.write(line);
            co_await c.drain();
        } catch (const std::exception&) {
            // that client is gone; its own task removes it
        }
    }
}

asyncio::Coro<> chat_client(asyncio::Stream reader, asyncio::Stream writer) {
    auto [host, port] = writer.get_extra_info("peername");
    std::string name = host + ":" + std::to_string(port);
    auto me = g_clients.insert(g_clients.end(), writer);
    co_await broadcast("* " + name + " joined\n", writer);
    try {
        for (;;) {
            std::string line = co_await reader.readline();
            if (line.empty()) break;
            co_await broadcast(name + ": " + line, writer);
        }
    } catch (const std::exception& e) {
        std::printf("%s: %s\n", name.c_str(), e.what());
    }
    g_clients.erase(me);
    co_await broadcast("* " + name + " left\n", writer);
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<int> demo() {
    asyncio::Server server = co_await asyncio::start_server(chat_client, "127.0.0.1", 0);
    auto [r1, w1] = co_await asyncio::open_connection("127.0.0.1", server.port());
    auto [r2, w2] = co_await asyncio::open_connection("127.0.0.1", server.port());
    co_await asyncio::sleep_ms(20);
    std::string joined = co_await r1.readline();  // client 1 sees client 2 join
    w1.write("hello from one\n");
    co_await w1.drain();
    std::string heard = co_await r2.readline();
    std::printf("client 1 saw: %sclient 2 heard: %s", joined.c_str(), heard.c_str());
    for (asyncio::Stream* w : {&w1, &w2}) {
        w->close();
        co_await w->wait_closed();
    }
    server.close();
    co_await server.wait_closed();
    co_await asyncio::sleep_ms(20);
    bool ok = heard.find(": hello from one\n") != std::string::npos && joined.find("joined") != std::string::npos;
    co_return ok ? 0 : 1;
}

asyncio::Coro<> serve(std::uint16_t port) {
    asyncio::Server server = co_await asyncio::start_server(chat_client, "0.0.0.0", port);
    std::printf("chat server on port %u\n", server.port());
    co_await server.wait_closed();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "demo") == 0) return asyncio::run(demo());
    if (argc == 2) {
        asyncio::run(serve(static_cast<std::uint16_t>(std::atoi(argv[1]))));
        return 0;
    }
    std::fprintf(stderr, "usage: %s PORT | demo\n", argv[0]);
    return 2;
}
