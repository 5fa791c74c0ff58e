// Stream: buffered reads, buffered writes flushed by drain(), close.
//
// Reads: recv() up to 256 KiB at a time into a per-thread scratch buffer and keep the unread
// tail per stream (PERFORMANCE.md T15), so readline/readexactly never make a system call per
// byte. Readiness is edge-triggered; a short recv() proves the socket was drained, so the next
// read waits for the edge without paying an EAGAIN call (T13). Every read and drain() suspends
// at least once (a yield when no wait was needed), as MicroPython's do.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>

#include "asyncio/errors.hpp"
#include "asyncio/sleep.hpp"
#include "asyncio/timeout.hpp"
#include "io/sys.hpp"
#include "net/pipe_io.hpp"
#include "net/socket.hpp"
#include "net/stream_state.hpp"
#include "net/tls_session.hpp"

namespace asyncio::detail {

namespace {

// send(MSG_NOSIGNAL) for sockets; write() with SIGPIPE held off for pipes and ttys.
ssize_t send_some(const StreamState& s, const char* data, std::size_t len) noexcept {
    if (s.socket) return sys::send(s.io.fd, data, len, MSG_NOSIGNAL);
    return write_no_sigpipe(s.io.fd, data, len);
}

constexpr std::size_t kScratch = 256 * 1024;

char* scratch() {
    thread_local std::unique_ptr<char[]> buffer(new char[kScratch]);
    return buffer.get();
}

// Sockets name their peer in errors ("recv 127.0.0.1:80: ..."); open_fd's pipes their fd.
[[noreturn]] void throw_io_error(const StreamState& s, int err, const char* socket_op, const char* fd_op) {
    if (s.socket) throw_net_error(err, socket_op, s.peer.host, s.peer.port);
    throw std::system_error(err, std::generic_category(), std::string(fd_op) + " fd " + std::to_string(s.io.fd));
}

void check_open(const StreamState& s) {
    if (s.closed || s.fd_closed) throw RuntimeError("Stream is closed");
}

enum class Progress { Data, Eof, WantRead, WantWrite };

// One attempt to receive more bytes into rbuf.
Progress receive_some(StreamState& s) {
    if (s.tls) {
        std::size_t got = 0;
        TlsStatus st = s.tls->read(scratch(), kScratch, got);
        if (st == TlsStatus::Done) {
            s.rbuf.append(scratch(), got);
            return Progress::Data;
        }
        if (st == TlsStatus::Eof) return Progress::Eof;
        return st == TlsStatus::WantRead ? Progress::WantRead : Progress::WantWrite;
    }
    for (;;) {
        ssize_t n = s.socket ? sys::recv(s.io.fd, scratch(), kScratch, 0) : sys::read(s.io.fd, scratch(), kScratch);
        if (n > 0) {
            if (static_cast<std::size_t>(n) < kScratch) s.io.readable = false;  // drained
            if (s.rpos == s.rbuf.size()) {
                s.rbuf.clear();
                s.rpos = 0;
            }
            s.rbuf.append(scratch(), static_cast<std::size_t>(n));
            return Progress::Data;
        }
        if (n == 0) return Progress::Eof;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s.io.readable = false;
            return Progress::WantRead;
        }
        if (errno != EINTR) throw_io_error(s, errno, "recv", "read");
    }
}

// Waits until the socket can make progress in `direction`.
Coro<> wait_direction(StreamState* s, Progress direction) {
    if (direction == Progress::WantRead) {
        co_await WaitIo{s->io.readers};
    } else {
        co_await WaitIo{s->io.writers};
    }
    check_open(*s);
}

// Receives at least one more byte into rbuf or reaches end of stream. Returns true if it
// had to wait (i.e. the caller already suspended).
Coro<bool> fill(StreamState* s) {
    bool waited = false;
    if (!s->tls && !may_read(s->io)) {  // the last recv drained the socket: wait for the edge
        co_await wait_direction(s, Progress::WantRead);
        waited = true;
    }
    for (;;) {
        check_open(*s);
        Progress p = receive_some(*s);
        if (p == Progress::Data) co_return waited;
        if (p == Progress::Eof) {
            s->eof = true;
            co_return waited;
        }
        co_await wait_direction(s, p);
        waited = true;
    }
}

// The read side serves one task at a time (as CPython's StreamReader): a read that must wait
// for data claims it until it returns, and a second read meanwhile raises. Without the claim,
// a second reader would take bytes from under the first (readline's scan offset would point
// past the buffer). A read that can be answered from the buffer yields first, without the
// claim, so tasks taking buffered lines in turn never collide.
class ReadClaim {
public:
    ReadClaim(StreamState& s, const char* operation) : s_(s) {
        if (s.reader != nullptr) {
            throw RuntimeError(std::string(operation) + " called while another task is already waiting in " +
                               s.reader + " on this stream");
        }
        s.reader = operation;
    }
    ~ReadClaim() { s_.reader = nullptr; }
    ReadClaim(const ReadClaim&) = delete;
    ReadClaim& operator=(const ReadClaim&) = delete;

private:
    StreamState& s_;
};

// Yields once (every read is a scheduling point) when the read needs no data from the socket;
// returns true if it did.
Coro<bool> yield_if(StreamState* s, bool ready) {
    if (!ready) co_return false;
    co_await sleep(0);
    check_open(*s);
    co_return true;
}

Coro<std::string> do_read(std::shared_ptr<StreamState> s, long n) {
    check_open(*s);
    auto ready = [&] { return s->eof || (n >= 0 && (n == 0 || s->buffered() > 0)); };
    bool waited = co_await yield_if(s.get(), ready());
    ReadClaim claim(*s, "read()");
    while (!ready()) {
        bool w = co_await fill(s.get());
        waited = waited || w;
    }
    if (!waited) co_await sleep(0);
    if (n < 0) co_return s->take(s->buffered());
    co_return s->take(std::min(static_cast<std::size_t>(n), s->buffered()));
}

Coro<std::size_t> do_readinto(std::shared_ptr<StreamState> s, char* out, std::size_t size) {
    check_open(*s);
    auto ready = [&] { return size == 0 || s->buffered() > 0 || s->eof; };
    bool waited = co_await yield_if(s.get(), ready());
    ReadClaim claim(*s, "readinto()");
    while (!ready()) {
        bool w = co_await fill(s.get());
        waited = waited || w;
    }
    if (!waited) co_await sleep(0);
    std::size_t n = std::min(size, s->buffered());
    std::memcpy(out, s->rbuf.data() + s->rpos, n);
    s->rpos += n;
    co_return n;
}

Coro<std::string> do_readexactly(std::shared_ptr<StreamState> s, std::size_t n) {
    check_open(*s);
    auto ready = [&] { return s->buffered() >= n || s->eof; };
    bool waited = co_await yield_if(s.get(), ready());
    ReadClaim claim(*s, "readexactly()");
    while (!ready()) {
        bool w = co_await fill(s.get());
        waited = waited || w;
    }
    if (s->buffered() < n) throw EOFError();  // the partial bytes stay buffered
    if (!waited) co_await sleep(0);
    co_return s->take(n);
}

// Where the first line of the buffer ends (its '\n'), searching from `from`; npos if none.
std::size_t find_newline(const StreamState& s, std::size_t from) {
    const char* begin = s.rbuf.data() + s.rpos;
    from = std::min(from, s.buffered());
    const void* nl = std::memchr(begin + from, '\n', s.buffered() - from);
    return nl == nullptr ? std::string::npos : static_cast<std::size_t>(static_cast<const char*>(nl) - begin);
}

[[noreturn]] void throw_limit_overrun(const StreamState& s, bool found) {
    throw LimitOverrunError(std::string("readline: ") +
                                (found ? "the line is longer than the limit of "
                                       : "no newline within the limit of ") +
                                std::to_string(s.limit) + " bytes (the bytes stay buffered)",
                            s.buffered());
}

Coro<std::string> do_readline(std::shared_ptr<StreamState> s) {
    check_open(*s);
    auto ready = [&] {
        return s->eof || (s->limit != 0 && s->buffered() > s->limit) || find_newline(*s, 0) != std::string::npos;
    };
    bool waited = co_await yield_if(s.get(), ready());
    ReadClaim claim(*s, "readline()");
    std::size_t scanned = 0;  // bytes of the buffer already searched for '\n'
    for (;;) {
        std::size_t nl = find_newline(*s, scanned);
        if (nl != std::string::npos) {
            if (s->limit != 0 && nl > s->limit) throw_limit_overrun(*s, true);
            if (!waited) co_await sleep(0);
            co_return s->take(nl + 1);
        }
        // No '\n' in more than `limit` bytes: no line within the limit can come any more.
        if (s->limit != 0 && s->buffered() > s->limit) throw_limit_overrun(*s, false);
        if (s->eof) {
            if (!waited) co_await sleep(0);
            co_return s->take(s->buffered());
        }
        scanned = s->buffered();
        bool w = co_await fill(s.get());
        waited = waited || w;
    }
}

// Sends the output buffer, waiting for writability as needed. `closing`: called from
// wait_closed, after close(). Several flushes may run at once (tasks draining one stream):
// whichever runs sends, all of them wait for the same edges, and a send error raises in each
// (the first to hit it wakes the others, who find write_failures changed).
Coro<> flush(std::shared_ptr<StreamState> s, bool closing) {
    const unsigned failures_before = s->write_failures;
    auto check_failed = [&] {
        if (s->write_failures != failures_before) std::rethrow_exception(s->write_exception);
    };
    // Records a send error for every flush in progress, and wakes them to raise it too.
    auto fail = [&](std::exception_ptr e) {
        s->wbuf.clear();  // the connection cannot take it any more
        s->wpos = 0;
        ++s->write_failures;
        s->write_exception = e;
        if (tls_scheduler != nullptr) tls_scheduler->wake_all(s->io.writers);
        std::rethrow_exception(e);
    };
    bool waited = false;
    while (s->wpos < s->wbuf.size()) {
        if (!closing) check_open(*s);
        if (s->fd_closed) throw RuntimeError("Stream is closed");
        if (!s->tls && !may_write(s->io)) {
            co_await WaitIo{s->io.writers};
            waited = true;
            check_failed();
            continue;
        }
        const char* data = s->wbuf.data() + s->wpos;
        std::size_t len = s->wbuf.size() - s->wpos;
        if (s->tls) {
            std::size_t sent = 0;
            TlsStatus st = TlsStatus::Done;
            try {
                st = s->tls->write(data, len, sent);
            } catch (const std::exception&) {
                fail(std::current_exception());
            }
            s->wpos += sent;
            if (st == TlsStatus::WantRead) {
                co_await WaitIo{s->io.readers};
                waited = true;
            } else if (st == TlsStatus::WantWrite) {
                co_await WaitIo{s->io.writers};
                waited = true;
            }
            check_failed();
            continue;
        }
        ssize_t n = send_some(*s, data, len);
        if (n >= 0) {
            s->wpos += static_cast<std::size_t>(n);
            if (static_cast<std::size_t>(n) < len) s->io.writable = false;  // kernel buffer full
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->io.writable = false;
        } else if (errno != EINTR) {
            int err = errno;
            try {
                throw_io_error(*s, err, "send", "write");
            } catch (const std::system_error&) {
                fail(std::current_exception());
            }
        }
    }
    check_failed();
    s->wbuf.clear();
    s->wpos = 0;
    if (!waited && !closing) co_await sleep(0);
}

// TLS: what is buffered, then close_notify.
Coro<> tls_close(std::shared_ptr<StreamState> s) {
    co_await flush(s, true);
    if (s->tls) co_await tls_shutdown(s.get());
}

Coro<> do_wait_closed(std::shared_ptr<StreamState> s) {
    if (s->fd_closed) co_return;
    s->closed = true;
    try {
        if (s->tls) {
            // Bounded: a peer that stops reading must not hold the socket forever.
            co_await timeout(s->tls_shutdown_timeout, tls_close(s));
        } else {
            co_await flush(s, true);
        }
    } catch (const std::exception&) {
        // best effort: the peer may be gone (or too slow: TimeoutError)
    }
    s->close_socket();
}

}  // namespace

StreamState::StreamState(int fd, Address peer_address, bool is_socket)
    : peer(std::move(peer_address)), socket(is_socket) {
    io.fd = fd;
    io.readable = true;  // try first; EAGAIN or a short read clears it
    io.writable = true;
    try {
        io_watch(io);
    } catch (...) {
        sys::close(fd);
        io.fd = -1;
        fd_closed = true;
        throw;
    }
}

StreamState::~StreamState() { close_socket(); }

std::string StreamState::take(std::size_t n) {
    std::string out(rbuf, rpos, n);
    rpos += n;
    if (rpos == rbuf.size()) {
        rbuf.clear();
        rpos = 0;
    } else if (rpos > 64 * 1024 && rpos * 2 > rbuf.size()) {
        rbuf.erase(0, rpos);  // keep only the unread tail
        rpos = 0;
    }
    return out;
}

void StreamState::close_socket() noexcept {
    if (fd_closed) return;
    fd_closed = true;
    closed = true;
    // One last non-blocking try to send what is buffered (and TLS's close_notify); nothing
    // waits for it and errors are ignored: the connection is going away.
    if (tls) {
        try {
            std::size_t sent = 0;
            if (wpos < wbuf.size()) tls->write(wbuf.data() + wpos, wbuf.size() - wpos, sent);
            tls->shutdown();
        } catch (...) {
        }
        tls.reset();
    } else if (wpos < wbuf.size()) {
        ssize_t r = send_some(*this, wbuf.data() + wpos, wbuf.size() - wpos);
        (void)r;
    }
    io_unwatch(io);
    sys::close(io.fd);
    io.fd = -1;
}

}  // namespace asyncio::detail

namespace asyncio {

namespace {
detail::StreamState& state_of(const std::shared_ptr<detail::StreamState>& s) {
    if (!s) throw RuntimeError("Stream is empty");
    return *s;
}
}  // namespace

Coro<std::string> Stream::read(long n) {
    state_of(state_);
    return detail::do_read(state_, n);
}

Coro<std::size_t> Stream::readinto(std::span<std::byte> buf) {
    state_of(state_);
    return detail::do_readinto(state_, reinterpret_cast<char*>(buf.data()), buf.size());
}

Coro<std::size_t> Stream::readinto(std::span<char> buf) {
    state_of(state_);
    return detail::do_readinto(state_, buf.data(), buf.size());
}

Coro<std::string> Stream::readexactly(std::size_t n) {
    state_of(state_);
    return detail::do_readexactly(state_, n);
}

Coro<std::string> Stream::readline() {
    state_of(state_);
    return detail::do_readline(state_);
}

void Stream::write(std::string_view data) {
    detail::StreamState& s = state_of(state_);
    detail::check_open(s);
    s.wbuf.append(data);
}

void Stream::write(std::span<const std::byte> data) {
    write(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

Coro<> Stream::drain() {
    detail::check_open(state_of(state_));
    return detail::flush(state_, false);
}

void Stream::close() {
    detail::StreamState& s = state_of(state_);
    if (s.closed) return;
    s.closed = true;
    if (s.wpos == s.wbuf.size() && !s.tls) {
        s.close_socket();  // wakes every waiter
        return;
    }
    // Data still buffered (or a TLS close_notify to send): wait_closed() or the last handle
    // going away finishes the job. Tasks waiting to read or drain raise RuntimeError now (as
    // promised above); a wait_closed() already flushing simply waits again.
    if (detail::tls_scheduler != nullptr) {
        detail::tls_scheduler->wake_all(s.io.readers);
        detail::tls_scheduler->wake_all(s.io.writers);
    }
}

void Stream::set_limit(std::size_t n) { state_of(state_).limit = n; }

Coro<> Stream::wait_closed() {
    state_of(state_);
    return detail::do_wait_closed(state_);
}

Address Stream::get_extra_info(std::string_view key) const {
    const detail::StreamState& s = state_of(state_);
    if (!s.socket && (key == "peername" || key == "sockname")) {
        throw std::invalid_argument("get_extra_info: '" + std::string(key) + "' needs a socket; this stream is over a pipe, FIFO or tty");
    }
    if (key == "peername") return s.peer;
    if (key == "sockname") {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (s.fd_closed || ::getsockname(s.io.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw RuntimeError("Stream is closed");
        }
        return detail::to_address(reinterpret_cast<sockaddr*>(&addr), len);
    }
    throw std::invalid_argument("get_extra_info: unknown key '" + std::string(key) + "' (expected peername or sockname)");
}

}  // namespace asyncio
