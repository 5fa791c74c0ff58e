// TlsSession: one OpenSSL connection over a non-blocking socket. Its I/O goes through a small
// custom BIO that uses send(MSG_NOSIGNAL)/recv, so a peer reset is EPIPE, never SIGPIPE, and
// that shares the stream's edge cache (IoHandle::readable / writable): a short recv or send
// proves the socket drained or full, so the next call waits for the edge instead of paying a
// system call for EAGAIN, as plain streams do. Records are read ahead (one recv takes whatever
// records have arrived, not a 5-byte header and then the body).
// WANT_READ / WANT_WRITE come back as statuses; the stream waits on the matching direction.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "asyncio/coro.hpp"

typedef struct ssl_st SSL;

namespace asyncio::detail {

struct StreamState;
struct IoHandle;

enum class TlsStatus { Done, WantRead, WantWrite, Eof };

/// What the session's socket BIO knows about its socket: the stream's watched fd (and its edge
/// cache), the errno of its last failed call (0 if that call succeeded or only had to wait),
/// and whether recv() saw end of stream.
struct BioState {
    IoHandle* io = nullptr;
    int error = 0;
    bool eof = false;
};

class TlsSession {
public:
    /// `context` is an ssl::SSLContext's SSL_CTX; `server_hostname` is checked (if the context
    /// says so) and sent as SNI by clients.
    TlsSession(void* ssl_ctx, IoHandle& io, bool server, const std::string& server_hostname, bool check_hostname,
               std::string peer_for_errors);
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    TlsStatus handshake();
    TlsStatus read(char* buf, std::size_t size, std::size_t& got);
    /// One SSL_write (partial writes on): at most one record goes out. A call that reported
    /// WantRead/WantWrite must be repeated with at least the same bytes (their address may move).
    TlsStatus write(const char* buf, std::size_t size, std::size_t& sent);
    TlsStatus shutdown();

private:
    TlsStatus status_of(int ret, const char* operation);
    SSL* ssl_ = nullptr;
    BioState bio_state_;  // the BIO's data; lives as long as the session
    std::string peer_;
};

/// Runs the handshake to completion, waiting on the socket as OpenSSL asks.
Coro<> tls_handshake(StreamState* s);
/// Sends close_notify (best effort, without waiting for the peer's).
Coro<> tls_shutdown(StreamState* s);

}  // namespace asyncio::detail
