// TLS on loopback: a server with a certificate and a client that verifies it.
//
//   build/release/examples/tls_echo CERT KEY CA     # e.g. from scripts/make-demo-certs.sh
//
// The server loads CERT/KEY; the client trusts CA and checks the host name "localhost".
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <string>

namespace {

asyncio::Coro<> handle(asyncio::Stream reader, asyncio::Stream writer) {
    std::string line = co_await reader.readline();
    writer.write("secure echo: " + line);
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<int> demo(std::string cert, std::string key, std::string ca) {
    asyncio::ssl::SSLContext server_ctx(asyncio::ssl::PROTOCOL_TLS_SERVER);
    server_ctx.load_cert_chain(cert, key);
    asyncio::Server server = co_await asyncio::start_server(handle, "127.0.0.1", 0, 5, server_ctx);

    asyncio::ssl::SSLContext client_ctx(asyncio::ssl::PROTOCOL_TLS_CLIENT);
    client_ctx.load_verify_locations(ca);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", server.port(), client_ctx, "localhost");
    writer.write("hello over TLS\n");
    co_await writer.drain();
    std::string reply = co_await reader.readline();
    std::printf("%s", reply.c_str());
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    co_await asyncio::sleep_ms(10);
    co_return reply == "secure echo: hello over TLS\n" ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s CERT KEY CA   (see scripts/make-demo-certs.sh)\n", argv[0]);
        return 2;
    }
    try {
        return asyncio::run(demo(argv[1], argv[2], argv[3]));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tls_echo: %s\n", e.what());
        return 1;
    }
}
