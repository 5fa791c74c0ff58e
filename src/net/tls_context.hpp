// SSLContext internals shared by the stream and server code.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "asyncio/tls.hpp"
#include "net/tls_session.hpp"

namespace asyncio::ssl {

struct SSLContext::Impl {
    SSL_CTX* ctx = nullptr;
    Protocol protocol = PROTOCOL_TLS_CLIENT;
    VerifyMode mode = CERT_REQUIRED;
    bool check_hostname = true;
    double handshake_timeout = 60.0;  // seconds (CPython's SSL_HANDSHAKE_TIMEOUT)
    double shutdown_timeout = 30.0;   // seconds (CPython's SSL_SHUTDOWN_TIMEOUT)
    ~Impl() { SSL_CTX_free(ctx); }
};

}  // namespace asyncio::ssl

namespace asyncio::detail {

struct IoHandle;

/// A session for the socket `io` watches, under `context` (client: `server_hostname` for SNI and the check).
std::unique_ptr<TlsSession> make_tls_session(const ssl::SSLContext& context, IoHandle& io, bool server,
                                             const std::string& server_hostname, std::string peer_for_errors);

/// SSLError for the calling thread's OpenSSL error queue, with `what` as a prefix.
[[noreturn]] void throw_ssl_error(const std::string& what);

}  // namespace asyncio::detail
