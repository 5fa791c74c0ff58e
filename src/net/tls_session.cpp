// TlsSession: OpenSSL over a non-blocking socket, through a BIO that sends with MSG_NOSIGNAL.
#include "net/tls_session.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>

#include "asyncio/errors.hpp"
#include "io/io_handle.hpp"
#include "io/sys.hpp"
#include "net/socket.hpp"
#include "net/stream_state.hpp"
#include "net/tls_context.hpp"

namespace asyncio::detail {

namespace {

// --- a socket BIO that never raises SIGPIPE --------------------------------------------------
//
// It keeps its own record of the last call's outcome (BioState): the errno of a failed call,
// 0 otherwise, and whether the peer's end of stream was seen. TlsSession reads that record,
// never `errno`, which is stale by then: after a recv() interrupted by a signal and retried,
// errno still says EINTR although the retry succeeded or found the end of stream. BIO_CTRL_EOF
// reports the end of stream to OpenSSL, which then reads a close without close_notify as a
// clean end (SSL_OP_IGNORE_UNEXPECTED_EOF) instead of a system error.

BioState& state_of(BIO* bio) { return *static_cast<BioState*>(BIO_get_data(bio)); }

// A short send proves the socket's buffer full and a short recv proves it drained (the edge
// cache of IoHandle, shared with the poller): until the next edge, the BIO answers "retry"
// without a system call.
int bio_write(BIO* bio, const char* data, size_t size, size_t* written) {
    BioState& st = state_of(bio);
    IoHandle& io = *st.io;
    BIO_clear_retry_flags(bio);
    st.error = 0;
    if (!may_write(io)) {
        BIO_set_retry_write(bio);
        return 0;
    }
    for (;;) {
        ssize_t n = sys::send(io.fd, data, size, MSG_NOSIGNAL);
        if (n >= 0) {
            *written = static_cast<size_t>(n);
            if (*written < size) io.writable = false;
            return 1;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            io.writable = false;
            BIO_set_retry_write(bio);
        } else {
            st.error = errno;
        }
        return 0;
    }
}

int bio_read(BIO* bio, char* data, size_t size, size_t* read) {
    BioState& st = state_of(bio);
    IoHandle& io = *st.io;
    BIO_clear_retry_flags(bio);
    st.error = 0;
    if (!may_read(io)) {
        BIO_set_retry_read(bio);
        return 0;
    }
    for (;;) {
        ssize_t n = sys::recv(io.fd, data, size, 0);
        if (n > 0) {
            *read = static_cast<size_t>(n);
            if (*read < size) io.readable = false;
            return 1;
        }
        if (n == 0) {
            st.eof = true;
            return 0;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            io.readable = false;
            BIO_set_retry_read(bio);
        } else {
            st.error = errno;
        }
        return 0;
    }
}

long bio_ctrl(BIO* bio, int cmd, long, void*) {
    if (cmd == BIO_CTRL_FLUSH) return 1;
    if (cmd == BIO_CTRL_EOF) return state_of(bio).eof ? 1 : 0;
    return 0;
}

BIO_METHOD* socket_bio_method() {
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "asyncio socket");
        BIO_meth_set_write_ex(m, bio_write);
        BIO_meth_set_read_ex(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
        return m;
    }();
    return method;
}

std::string verify_reason(SSL* ssl) {
    long result = SSL_get_verify_result(ssl);
    if (result == X509_V_ERR_HOSTNAME_MISMATCH) return "hostname mismatch";
    if (result == X509_V_ERR_IP_ADDRESS_MISMATCH) return "hostname mismatch (IP address)";
    return X509_verify_cert_error_string(result);
}

}  // namespace

void throw_ssl_error(const std::string& what) {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    int reason = code != 0 ? ERR_GET_REASON(code) : 0;
    std::string text = what;
    if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        text += std::string(": ") + buf;
    }
    throw ssl::SSLError(reason, ssl::ssl_category(), text);
}

std::unique_ptr<TlsSession> make_tls_session(const ssl::SSLContext& context, IoHandle& io, bool server,
                                             const std::string& server_hostname, std::string peer_for_errors) {
    return std::make_unique<TlsSession>(context.impl().ctx, io, server, server_hostname,
                                        context.check_hostname(), std::move(peer_for_errors));
}

TlsSession::TlsSession(void* ssl_ctx, IoHandle& io, bool server, const std::string& server_hostname, bool check_hostname,
                       std::string peer_for_errors)
    : peer_(std::move(peer_for_errors)) {
    ssl_ = SSL_new(static_cast<SSL_CTX*>(ssl_ctx));
    if (ssl_ == nullptr) throw_ssl_error("SSL_new");
    BIO* bio = BIO_new(socket_bio_method());
    if (bio == nullptr) {
        SSL_free(ssl_);
        throw_ssl_error("BIO_new");
    }
    bio_state_.io = &io;
    BIO_set_data(bio, &bio_state_);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio);
    // One recv takes every record that has arrived (up to OpenSSL's read buffer) instead of a
    // 5-byte header and then the body: half the receive calls. The stream always asks OpenSSL
    // before waiting for an edge, so records read ahead are never left waiting.
    SSL_set_read_ahead(ssl_, 1);
    if (server) {
        SSL_set_accept_state(ssl_);
    } else {
        SSL_set_connect_state(ssl_);
        if (!server_hostname.empty()) {
            SSL_set_tlsext_host_name(ssl_, server_hostname.c_str());  // SNI
            if (check_hostname) {
                // An IP address is matched against the certificate's IP SANs, a name against
                // its DNS names.
                X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
                if (X509_VERIFY_PARAM_set1_ip_asc(param, server_hostname.c_str()) != 1) {
                    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                    SSL_set1_host(ssl_, server_hostname.c_str());
                }
            }
        }
    }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsStatus TlsSession::status_of(int ret, const char* operation) {
    int err = SSL_get_error(ssl_, ret);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        return TlsStatus::WantRead;
    case SSL_ERROR_WANT_WRITE:
        return TlsStatus::WantWrite;
    case SSL_ERROR_ZERO_RETURN:
        return TlsStatus::Eof;
    case SSL_ERROR_SYSCALL: {
        int e = bio_state_.error;  // not errno: see BioState
        ERR_clear_error();
        if (e == 0) return TlsStatus::Eof;
        throw std::system_error(e, std::generic_category(), std::string(operation) + " " + peer_);
    }
    default:
        break;
    }
    if (SSL_get_verify_result(ssl_) != X509_V_OK) {
        std::string reason = verify_reason(ssl_);
        ERR_clear_error();
        throw ssl::SSLCertVerificationError(static_cast<int>(SSL_R_CERTIFICATE_VERIFY_FAILED), ssl::ssl_category(),
                                            std::string(operation) + " " + peer_ + ": certificate verify failed: " +
                                                reason);
    }
    throw_ssl_error(std::string(operation) + " " + peer_);
}

TlsStatus TlsSession::handshake() {
    int r = SSL_do_handshake(ssl_);
    return r == 1 ? TlsStatus::Done : status_of(r, "tls handshake");
}

TlsStatus TlsSession::read(char* buf, std::size_t size, std::size_t& got) {
    int r = SSL_read_ex(ssl_, buf, size, &got);
    return r == 1 ? TlsStatus::Done : status_of(r, "tls read");
}

TlsStatus TlsSession::write(const char* buf, std::size_t size, std::size_t& sent) {
    sent = 0;
    int r = SSL_write_ex(ssl_, buf, size, &sent);
    return r == 1 ? TlsStatus::Done : status_of(r, "tls write");
}

TlsStatus TlsSession::shutdown() {
    int r = SSL_shutdown(ssl_);
    if (r >= 0) return TlsStatus::Done;  // close_notify sent; we do not wait for the peer's
    return status_of(r, "tls shutdown");
}

Coro<> tls_handshake(StreamState* s) {
    for (;;) {
        // Closed while waiting (Server::close() aborts handshakes): the session is gone.
        if (s->fd_closed || !s->tls) throw RuntimeError("Stream is closed");
        TlsStatus st = s->tls->handshake();
        if (st == TlsStatus::Done) co_return;
        if (st == TlsStatus::Eof) {
            throw ssl::SSLError(0, ssl::ssl_category(), "tls handshake " + host_port(s->peer.host, s->peer.port) +
                                                            ": connection closed during handshake");
        }
        if (st == TlsStatus::WantRead) {
            co_await WaitIo{s->io.readers};
        } else {
            co_await WaitIo{s->io.writers};
        }
    }
}

Coro<> tls_shutdown(StreamState* s) {
    for (int attempts = 0; attempts < 4; ++attempts) {
        TlsStatus st = s->tls->shutdown();
        if (st == TlsStatus::Done || st == TlsStatus::Eof) co_return;
        if (st == TlsStatus::WantWrite) {
            co_await WaitIo{s->io.writers};
        } else {
            co_return;  // it wants the peer's close_notify: not worth waiting for
        }
    }
}

}  // namespace asyncio::detail
