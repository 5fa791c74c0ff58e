// libFuzzer target: bytes from a hostile TLS client. The fuzzer's input is written as the
// peer's side of a socket pair (then the peer ends its stream); the library's server-side TLS
// session runs its handshake on it and, if that succeeds, reads until the end of stream. Every
// outcome must be a clean one: done, an ssl::SSLError / std::system_error / EOF, never a
// crash, a sanitizer report or a hang.
//
// Seeds: fuzz/corpus/tls_record/ holds a real ClientHello, made by running this binary with
// ASYNCIO_FUZZ_MAKE_SEED=<file> (a client session's first flight over a socket pair).
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "asyncio/asyncio.hpp"
#include "net/stream_state.hpp"
#include "net/tls_context.hpp"
#include "net/tls_session.hpp"
#include "support/certs.hpp"

namespace {

using namespace asyncio;

ssl::SSLContext& server_context() {
    static ssl::SSLContext ctx = [] {
        ssl::SSLContext c(ssl::PROTOCOL_TLS_SERVER);
        c.load_cert_chain(testing::test_certs().server_pem, testing::test_certs().server_key);
        return c;
    }();
    return ctx;
}

// Writes a client's first flight (its ClientHello) to `path`.
void make_seed(const char* path) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, sv[0]);
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, "localhost");
    (void)SSL_do_handshake(ssl);  // WANT_READ after sending the ClientHello
    char buf[16384];
    ssize_t n = ::recv(sv[1], buf, sizeof buf, 0);
    if (n <= 0) std::abort();
    std::ofstream(path, std::ios::binary).write(buf, n);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(sv[0]);
    ::close(sv[1]);
}

Coro<> serve(std::shared_ptr<detail::StreamState> state) {
    try {
        co_await detail::tls_handshake(state.get());
        Stream s(state);
        for (;;) {
            std::string part = co_await s.read(4096);
            if (part.empty()) break;
        }
    } catch (const std::exception&) {
        // the expected outcome for almost every input
    }
}

Coro<> one_input(std::string bytes) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
    if (!bytes.empty() && ::send(sv[1], bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
        std::abort();
    }
    ::shutdown(sv[1], SHUT_WR);
    auto state = std::make_shared<detail::StreamState>(sv[0], Address{});
    state->tls = detail::make_tls_session(server_context(), state->io, true, {}, "fuzz peer");
    co_await wait_for(serve(state), 10.0);
    Stream(state).close();
    state.reset();
    ::close(sv[1]);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* path = std::getenv("ASYNCIO_FUZZ_MAKE_SEED")) {
        make_seed(path);
        std::exit(0);
    }
    (void)server_context();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    asyncio::run(one_input(std::string(reinterpret_cast<const char*>(data), size)));
    return 0;
}
