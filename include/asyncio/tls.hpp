/// @file
/// TLS for open_connection / start_server, mirroring Python's ssl module (OpenSSL 3 inside).
///
///      asyncio::ssl::SSLContext client(asyncio::ssl::PROTOCOL_TLS_CLIENT);
///      client.load_verify_locations("ca.pem");            // or load_default_certs()
///      auto [r, w] = co_await asyncio::open_connection("localhost", 8443, client);
///
///      asyncio::ssl::SSLContext server(asyncio::ssl::PROTOCOL_TLS_SERVER);
///      server.load_cert_chain("server.pem", "server.key");
///      auto srv = co_await asyncio::start_server(handler, "127.0.0.1", 8443, 5, server);
///
/// As in Python: a PROTOCOL_TLS_CLIENT context verifies the certificate chain and the host name
/// by default (load CAs into it); `open_connection(host, port, true)` uses a default context with
/// the system's CA store (OpenSSL's default paths, so SSL_CERT_FILE / SSL_CERT_DIR apply). A
/// server context with verify_mode(CERT_REQUIRED) requires a client certificate. The handshake
/// runs inside open_connection (client) and before the callback (server). Unlike MicroPython,
/// whose ssl=True verifies nothing, certificates are verified by default.
///
/// Bounds (CPython's ssl_handshake_timeout / ssl_shutdown_timeout): a handshake that takes longer
/// than handshake_timeout() (default 60 s) closes the connection: a server drops it before the
/// callback runs, open_connection raises asyncio::TimeoutError. Server::close() aborts the
/// handshakes in progress. wait_closed() on a TLS stream gives up sending what is buffered and
/// the close_notify after shutdown_timeout() (default 30 s) and closes the socket anyway.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <system_error>

#include "asyncio/export.hpp"

namespace asyncio::ssl {

/// The side of the connection a context is for (Python's ssl.PROTOCOL_TLS_CLIENT / _SERVER).
enum Protocol { PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER };
/// Whether the peer must present a certificate that verifies (Python's ssl.CERT_*).
enum VerifyMode { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED };

/// A TLS failure (handshake, record layer); the code is OpenSSL's reason code.
class ASYNCIO_API SSLError : public std::system_error {
public:
    using std::system_error::system_error;
};

/// The peer's certificate did not verify; what() names the reason (untrusted issuer,
/// self-signed, host name mismatch, expired ...).
class ASYNCIO_API SSLCertVerificationError : public SSLError {
public:
    using SSLError::SSLError;
};

/// The error category of SSLError codes.
ASYNCIO_API const std::error_category& ssl_category() noexcept;

/// Settings and credentials for TLS connections. A copyable handle: copies share one context.
class ASYNCIO_API SSLContext {
public:
    /// A client (PROTOCOL_TLS_CLIENT: verifies the server) or server context.
    explicit SSLContext(Protocol protocol);

    /// Our certificate (PEM, may hold the chain) and its private key (default: in certfile).
    void load_cert_chain(const std::string& certfile, const std::string& keyfile = {});
    /// Trusts the CA certificates in `cafile` (PEM).
    void load_verify_locations(const std::string& cafile);
    /// Trusts the system's CA store.
    void load_default_certs();

    /// CERT_NONE is refused while check_hostname is on (as in Python).
    void verify_mode(VerifyMode mode);
    /// The current verify mode.
    [[nodiscard]] VerifyMode verify_mode() const noexcept;
    /// Host name checking; turning it on with CERT_NONE sets CERT_REQUIRED (as in Python).
    void check_hostname(bool on);
    /// Whether host names are checked.
    [[nodiscard]] bool check_hostname() const noexcept;
    /// Client or server.
    [[nodiscard]] Protocol protocol() const noexcept;

    /// How long a handshake may take, in seconds (default 60); not positive:
    /// std::invalid_argument. Applies to connections opened or accepted afterwards.
    void handshake_timeout(double seconds);
    /// handshake_timeout() with a std::chrono duration.
    template <class Rep, class Period>
    void handshake_timeout(std::chrono::duration<Rep, Period> d) {
        handshake_timeout(std::chrono::duration<double>(d).count());
    }
    /// The handshake time limit in seconds.
    [[nodiscard]] double handshake_timeout() const noexcept;
    /// How long wait_closed() may spend flushing and sending close_notify, in seconds (default
    /// 30); not positive: std::invalid_argument.
    void shutdown_timeout(double seconds);
    /// shutdown_timeout() with a std::chrono duration.
    template <class Rep, class Period>
    void shutdown_timeout(std::chrono::duration<Rep, Period> d) {
        shutdown_timeout(std::chrono::duration<double>(d).count());
    }
    /// The shutdown time limit in seconds.
    [[nodiscard]] double shutdown_timeout() const noexcept;

    struct Impl;
    [[nodiscard]] Impl& impl() const noexcept { return *impl_; }

private:
    std::shared_ptr<Impl> impl_;
};

/// The client context used by `ssl=true`: system CAs, CERT_REQUIRED, host name check.
ASYNCIO_API SSLContext create_default_context();

}  // namespace asyncio::ssl
