// SSLContext: an OpenSSL SSL_CTX with Python's ssl-module defaults.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>
#include <string>

#include "net/tls_context.hpp"

namespace asyncio::ssl {

namespace {

class SslCategory : public std::error_category {
public:
    const char* name() const noexcept override { return "ssl"; }
    std::string message(int code) const override {
        const char* reason = ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, code));
        return reason != nullptr ? reason : "TLS error";
    }
};

void apply_verify(SSLContext::Impl& impl) {
    int flags = SSL_VERIFY_NONE;
    if (impl.mode == CERT_OPTIONAL) flags = SSL_VERIFY_PEER;
    if (impl.mode == CERT_REQUIRED) {
        flags = SSL_VERIFY_PEER;
        if (impl.protocol == PROTOCOL_TLS_SERVER) flags |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(impl.ctx, flags, nullptr);
}

}  // namespace

const std::error_category& ssl_category() noexcept {
    static const SslCategory category;
    return category;
}

SSLContext::SSLContext(Protocol protocol) : impl_(std::make_shared<Impl>()) {
    impl_->protocol = protocol;
    impl_->ctx = SSL_CTX_new(protocol == PROTOCOL_TLS_CLIENT ? TLS_client_method() : TLS_server_method());
    if (impl_->ctx == nullptr) detail::throw_ssl_error("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(impl_->ctx, TLS1_2_VERSION);
    // A peer closing without close_notify reads as end of stream, as with plain TCP.
    SSL_CTX_set_options(impl_->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    // Partial writes: SSL_write returns after each record, so a stream's flush hands over one
    // record (up to 16 KiB) at a time and counts exactly what went. Released buffers: an idle
    // connection holds no record buffers (about 34 KiB less each); the malloc/free per record
    // this costs a busy one did not show in the TLS echo benchmark (bench/peers/tls.sh).
    SSL_CTX_set_mode(impl_->ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // Python: clients verify and check host names; servers ask for no client certificate.
    impl_->mode = protocol == PROTOCOL_TLS_CLIENT ? CERT_REQUIRED : CERT_NONE;
    impl_->check_hostname = protocol == PROTOCOL_TLS_CLIENT;
    apply_verify(*impl_);
}

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile) {
    if (SSL_CTX_use_certificate_chain_file(impl_->ctx, certfile.c_str()) != 1) {
        detail::throw_ssl_error("load_cert_chain " + certfile);
    }
    const std::string& key = keyfile.empty() ? certfile : keyfile;
    if (SSL_CTX_use_PrivateKey_file(impl_->ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        detail::throw_ssl_error("load_cert_chain " + key);
    }
    if (SSL_CTX_check_private_key(impl_->ctx) != 1) detail::throw_ssl_error("load_cert_chain: key does not match");
}

void SSLContext::load_verify_locations(const std::string& cafile) {
    if (SSL_CTX_load_verify_locations(impl_->ctx, cafile.c_str(), nullptr) != 1) {
        detail::throw_ssl_error("load_verify_locations " + cafile);
    }
}

void SSLContext::load_default_certs() {
    if (SSL_CTX_set_default_verify_paths(impl_->ctx) != 1) detail::throw_ssl_error("load_default_certs");
}

void SSLContext::verify_mode(VerifyMode mode) {
    if (mode == CERT_NONE && impl_->check_hostname) {
        throw std::invalid_argument("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
    }
    impl_->mode = mode;
    apply_verify(*impl_);
}

VerifyMode SSLContext::verify_mode() const noexcept { return impl_->mode; }

void SSLContext::check_hostname(bool on) {
    impl_->check_hostname = on;
    if (on && impl_->mode == CERT_NONE) verify_mode(CERT_REQUIRED);
}

bool SSLContext::check_hostname() const noexcept { return impl_->check_hostname; }

Protocol SSLContext::protocol() const noexcept { return impl_->protocol; }

namespace {
double positive_seconds(double seconds, const char* what) {
    if (!(seconds > 0)) throw std::invalid_argument(std::string(what) + " should be a positive number of seconds");
    return seconds;
}
}  // namespace

void SSLContext::handshake_timeout(double seconds) {
    impl_->handshake_timeout = positive_seconds(seconds, "handshake_timeout");
}

double SSLContext::handshake_timeout() const noexcept { return impl_->handshake_timeout; }

void SSLContext::shutdown_timeout(double seconds) {
    impl_->shutdown_timeout = positive_seconds(seconds, "shutdown_timeout");
}

double SSLContext::shutdown_timeout() const noexcept { return impl_->shutdown_timeout; }

SSLContext create_default_context() {
    SSLContext context(PROTOCOL_TLS_CLIENT);
    context.load_default_certs();
    return context;
}

}  // namespace asyncio::ssl
