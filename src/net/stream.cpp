// Stream: buffered reads, buffered writes flushed by drain(), close.
//
// Reads: recv() straight into the stream's buffer (read_buffer.hpp: 4 KiB growing to 256 KiB
// per call while the sender keeps it full), so readline/readexactly never make a system call
// per byte and no byte is copied twice; a large readexactly() receives into its result. Readiness is edge-triggered; a short recv() proves the socket was drained, so the next
// read waits for the edge without paying an EAGAIN call (T13). Every read and drain() suspends
// at least once (a yield when no wait was needed), as MicroPython's do.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

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

// Sockets name their peer in errors ("recv 127.0.0.1:80: ..."); open_fd's pipes their fd.
[[noreturn]] void throw_io_error(const StreamState& s, int err, const char* socket_op, const char* fd_op) {
    if (s.socket) throw_net_error(err, socket_op, s.peer.host, s.peer.port);
    throw std::system_error(err, std::generic_category(), std::string(fd_op) + " fd " + std::to_string(s.io.fd));
}

void check_open(const StreamState& s) {
    if (s.closed || s.fd_closed) throw RuntimeError("Stream is closed");
}

enum class Progress { Data, Eof, WantRead, WantWrite };

// One attempt to receive up to `len` bytes into `dst`; `got` says how many came.
Progress receive_into(StreamState& s, char* dst, std::size_t len, std::size_t& got) {
    got = 0;
    if (s.tls) {
        TlsStatus st = s.tls->read(dst, len, got);
        if (st == TlsStatus::Done) return Progress::Data;
        if (st == TlsStatus::Eof) return Progress::Eof;
        return st == TlsStatus::WantRead ? Progress::WantRead : Progress::WantWrite;
    }
    for (;;) {
        ssize_t n = s.socket ? sys::recv(s.io.fd, dst, len, 0) : sys::read(s.io.fd, dst, len);
        if (n > 0) {
            got = static_cast<std::size_t>(n);
            if (got < len) s.io.readable = false;  // drained
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

// One attempt to receive more bytes into rbuf, straight into its storage.
Progress receive_some(StreamState& s) {
    std::span<char> room = s.rbuf.space();
    std::size_t got = 0;
    Progress p = receive_into(s, room.data(), room.size(), got);
    s.rbuf.commit(got, room.size());
    return p;
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
    std::memcpy(out, s->rbuf.data(), n);
    s->rbuf.consume(n);
    co_return n;
}

// A large readexactly(): the result's own storage receives the bytes, once. Whatever was
// received goes back into the stream's buffer if the read ends early (end of stream, an error,
// cancel), so no byte is lost.
constexpr std::size_t kDirectRead = 64 * 1024;

Coro<std::string> readexactly_direct(std::shared_ptr<StreamState> s, std::size_t n, bool waited) {
    std::string out(n, '\0');
    std::size_t have = s->buffered();
    std::memcpy(out.data(), s->rbuf.data(), have);
    s->rbuf.consume(have);
    try {
        while (have < n) {
            if (!s->tls && !may_read(s->io)) {
                co_await wait_direction(s.get(), Progress::WantRead);
                waited = true;
            }
            check_open(*s);
            std::size_t got = 0;
            Progress p = receive_into(*s, out.data() + have, n - have, got);
            have += got;
            if (p == Progress::Eof) {
                s->eof = true;
                break;
            }
            if (p == Progress::WantRead || p == Progress::WantWrite) {
                co_await wait_direction(s.get(), p);
                waited = true;
            }
        }
        if (have == n && !waited) co_await sleep(0);
    } catch (...) {
        s->rbuf.put_back(out.data(), have);
        throw;
    }
    if (have < n) {
        s->rbuf.put_back(out.data(), have);
        throw EOFError();  // the partial bytes stay buffered
    }
    co_return out;
}

Coro<std::string> do_readexactly(std::shared_ptr<StreamState> s, std::size_t n) {
    check_open(*s);
    auto ready = [&] { return s->buffered() >= n || s->eof; };
    bool waited = co_await yield_if(s.get(), ready());
    ReadClaim claim(*s, "readexactly()");
    if (!ready() && n - s->buffered() >= kDirectRead) co_return co_await readexactly_direct(s, n, waited);
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
    const char* begin = s.rbuf.data();
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

// --- the write side ----------------------------------------------------------------------
//
// write() appends to the chain (no system call, as the seed documents). drain() below the
// high-water mark queues the stream's RoundFlush on the run queue (once: later drains join it)
// and waits for it: it runs after the tasks already runnable, so every write and drain of this
// round, from any task, goes out in one sendmsg. Above the mark, or when the round's flush
// could not send everything (the kernel is full), drain() sends and waits for room itself.

// Where the hard limit on buffered bytes lies for high-water mark `high`.
std::size_t hard_limit(std::size_t high) noexcept {
    constexpr std::size_t kMin = Stream::kWriteBufferHardLimit;
    return high > kMin / 4 ? std::max(kMin, high > SIZE_MAX / 4 ? SIZE_MAX : high * 4) : kMin;
}

// TLS: the bytes for the next SSL_write, one record's worth (16 KiB) when the chain has that
// many. A first chunk of 16 KiB or more goes as it is; several smaller chunks (many small
// writes, or writes from several tasks in one round) are copied into one record, so they cost
// one encryption and one send, not one each. A repeated SSL_write (after WantWrite) gets at
// least the bytes of the first try: the chain only grows at the back until bytes are sent, and
// the choice depends only on its front.
constexpr std::size_t kTlsRecord = 16 * 1024;

std::string_view tls_record(const WriteChain& chain) {
    std::string_view front = chain.front();
    if (front.size() >= kTlsRecord || front.size() == chain.size()) return front;
    thread_local char record[kTlsRecord];
    iovec iov[WriteChain::kMaxIov];
    int count = chain.gather(iov, WriteChain::kMaxIov);
    std::size_t n = 0;
    for (int i = 0; i < count && n < kTlsRecord; ++i) {
        std::size_t take = std::min(iov[i].iov_len, kTlsRecord - n);
        std::memcpy(record + n, iov[i].iov_base, take);
        n += take;
    }
    return {record, n};
}

// One attempt to hand buffered bytes to the kernel (sockets: everything, up to 64 chunks, in
// one sendmsg; pipes: write(); TLS: SSL_write of one record, tls_record). Data: some bytes went;
// WantWrite/WantRead: nothing could go until that direction is ready. Throws the error.
Progress write_some(StreamState& s) {
    std::size_t sent = 0;
    Progress result = Progress::Data;
    if (s.tls) {
        std::string_view piece = tls_record(s.wbuf);
        TlsStatus st = s.tls->write(piece.data(), piece.size(), sent);
        if (st == TlsStatus::WantRead) result = Progress::WantRead;
        if (st == TlsStatus::WantWrite) result = Progress::WantWrite;
        // The peer's close_notify was read (OpenSSL then reports a failed write as a clean
        // end): nothing more can be sent. Reporting "progress" here made the flush loop spin.
        if (st == TlsStatus::Eof && sent == 0) throw_io_error(s, EPIPE, "send", "write");
    } else {
        ssize_t n;
        std::size_t offered;
        if (s.socket) {
            iovec iov[WriteChain::kMaxIov];
            int count = s.wbuf.gather(iov, WriteChain::kMaxIov);
            offered = 0;
            for (int i = 0; i < count; ++i) offered += iov[i].iov_len;
            if (count == 1) {
                n = sys::send(s.io.fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);  // cheaper
            } else {
                msghdr msg{};
                msg.msg_iov = iov;
                msg.msg_iovlen = static_cast<std::size_t>(count);
                n = sys::sendmsg(s.io.fd, &msg, MSG_NOSIGNAL);
            }
        } else {
            std::string_view piece = s.wbuf.front();
            offered = piece.size();
            n = write_no_sigpipe(s.io.fd, piece.data(), piece.size());
        }
        if (n >= 0) {
            sent = static_cast<std::size_t>(n);
            if (sent < offered) s.io.writable = false;  // kernel buffer full
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s.io.writable = false;
            result = Progress::WantWrite;
        } else if (errno != EINTR) {
            throw_io_error(s, errno, "send", "write");
        }
    }
    s.wbuf.consume(sent);
    s.sent_total += sent;
    return result;
}

// A send error: the buffered bytes are dropped (the connection cannot take them any more) and
// every drain in progress raises it; if none is, the next drain() does.
void record_write_failure(StreamState& s, std::exception_ptr e) noexcept {
    s.wbuf.clear();
    s.sent_total = s.written_total;
    ++s.write_failures;
    s.write_exception = e;
    if (s.drainers.empty() && s.active_flushes == 0) s.unseen_write_error = e;
    if (tls_scheduler != nullptr) {
        tls_scheduler->wake_all(s.io.writers);
        tls_scheduler->wake_all(s.drainers);
    }
}

// The round's flush: as much as the kernel takes now, without waiting.
void flush_round(StreamState& s) noexcept {
    try {
        while (!s.fd_closed && !s.wbuf.empty() && (s.tls || may_write(s.io))) {
            if (write_some(s) != Progress::Data) break;
        }
    } catch (...) {
        record_write_failure(s, std::current_exception());
    }
    if (tls_scheduler != nullptr) tls_scheduler->wake_all(s.drainers);
}

void queue_round_flush(StreamState& s) noexcept {
    if (s.round_flush_queued || tls_scheduler == nullptr) return;
    s.round_flush_queued = true;
    tls_scheduler->push_ready(&s.round_flush);
}

// Sends until the first `target` bytes ever written are handed to the kernel, waiting for room
// as needed. `closing`: called from wait_closed, after close(). Several of these may run at
// once (tasks draining one stream): whichever runs sends, all wait for the same edges, and a
// send error raises in each (the first to hit it wakes the others, who find write_failures
// changed).
Coro<> flush(std::shared_ptr<StreamState> s, bool closing, std::uint64_t target, unsigned failures_before,
             bool waited) {
    struct Active {
        StreamState& s;
        explicit Active(StreamState& st) : s(st) { ++s.active_flushes; }
        ~Active() { --s.active_flushes; }
        Active(const Active&) = delete;
        Active& operator=(const Active&) = delete;
    } active(*s);
    auto check_failed = [&] {
        if (s->write_failures != failures_before) std::rethrow_exception(s->write_exception);
    };
    while (s->sent_total < target && !s->wbuf.empty()) {
        if (!closing) check_open(*s);
        if (s->fd_closed) throw RuntimeError("Stream is closed");
        check_failed();
        if (!s->tls && !may_write(s->io)) {
            co_await WaitIo{s->io.writers};
            waited = true;
            continue;
        }
        Progress p = Progress::Data;
        try {
            p = write_some(*s);
        } catch (const std::exception&) {
            record_write_failure(*s, std::current_exception());
        }
        if (p == Progress::WantRead) {
            co_await WaitIo{s->io.readers};
            waited = true;
        } else if (p == Progress::WantWrite && s->tls) {
            co_await WaitIo{s->io.writers};
            waited = true;
        }
    }
    check_failed();
    if (!waited && !closing) co_await sleep(0);
}

Coro<> do_drain(std::shared_ptr<StreamState> s) {
    if (s->unseen_write_error) std::rethrow_exception(std::exchange(s->unseen_write_error, nullptr));
    const unsigned failures_before = s->write_failures;
    const std::uint64_t target = s->written_total;
    bool waited = false;
    if (!s->wbuf.empty() && s->wbuf.size() <= s->high_water) {
        // The round's flush sends for us, with everything else written before it runs.
        queue_round_flush(*s);
        co_await WaitOn{s->drainers};
        check_open(*s);
        if (s->write_failures != failures_before) std::rethrow_exception(s->write_exception);
        if (s->sent_total >= target) co_return;
        waited = true;  // the kernel was full: wait for room ourselves
    }
    co_await flush(std::move(s), false, target, failures_before, waited);
}

// TLS: what is buffered, then close_notify.
Coro<> tls_close(std::shared_ptr<StreamState> s) {
    co_await flush(s, true, s->written_total, s->write_failures, true);
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
            co_await flush(s, true, s->written_total, s->write_failures, true);
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

StreamState::~StreamState() {
    close_socket();
    // Gone before its round's flush ran (written, then the last handle dropped in one round).
    if (round_flush_queued && tls_scheduler != nullptr) tls_scheduler->remove_ready(&round_flush);
}

void StreamState::close_socket() noexcept {
    if (fd_closed) return;
    fd_closed = true;
    closed = true;
    // One last non-blocking try to send what is buffered (and TLS's close_notify); nothing
    // waits for it and errors are ignored: the connection is going away.
    try {
        while (!wbuf.empty()) {
            std::size_t before = wbuf.size();
            if (write_some(*this) != Progress::Data || wbuf.size() == before) break;
        }
    } catch (...) {
    }
    wbuf.clear();
    if (tls) {
        try {
            tls->shutdown();
        } catch (...) {
        }
        tls.reset();
    }
    if (tls_scheduler != nullptr) tls_scheduler->wake_all(drainers);
    io_unwatch(io);
    sys::close(io.fd);
    io.fd = -1;
}

void RoundFlush::run(LoopCallback& self) noexcept {
    StreamState& s = *static_cast<RoundFlush&>(self).stream;
    s.round_flush_queued = false;
    flush_round(s);
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

namespace {
void check_room(const detail::StreamState& s, std::size_t n) {
    std::size_t limit = detail::hard_limit(s.high_water);
    if (n > limit || s.wbuf.size() > limit - n) {
        throw RuntimeError("write: " + std::to_string(s.wbuf.size()) + " bytes already wait to be sent and " +
                           std::to_string(n) + " more would pass the hard limit of " + std::to_string(limit) +
                           " bytes (await drain() between writes)");
    }
}
}  // namespace

void Stream::write(std::string_view data) {
    detail::StreamState& s = state_of(state_);
    detail::check_open(s);
    check_room(s, data.size());
    s.wbuf.append(data);
    s.written_total += data.size();
}

void Stream::write(std::span<const std::byte> data) {
    write(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

void Stream::write_owned(std::string&& data) {
    detail::StreamState& s = state_of(state_);
    detail::check_open(s);
    check_room(s, data.size());
    std::size_t n = data.size();
    s.wbuf.append(std::move(data));
    s.written_total += n;
}

Coro<> Stream::drain() {
    detail::check_open(state_of(state_));
    return detail::do_drain(state_);
}

void Stream::set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low) {
    detail::StreamState& s = state_of(state_);
    std::size_t h = high ? *high : (low ? (*low > SIZE_MAX / 4 ? SIZE_MAX : *low * 4) : 64 * 1024);
    std::size_t l = low ? *low : h / 4;
    if (h < l) {
        throw std::invalid_argument("set_write_buffer_limits: high (" + std::to_string(h) +
                                    ") must be >= low (" + std::to_string(l) + ")");
    }
    s.high_water = h;
    s.low_water = l;
}

std::pair<std::size_t, std::size_t> Stream::get_write_buffer_limits() const {
    const detail::StreamState& s = state_of(state_);
    return {s.low_water, s.high_water};
}

std::size_t Stream::get_write_buffer_size() const { return state_of(state_).wbuf.size(); }

void Stream::close() {
    detail::StreamState& s = state_of(state_);
    if (s.closed) return;
    s.closed = true;
    if (s.wbuf.empty() && !s.tls) {
        s.close_socket();  // wakes every waiter
        return;
    }
    // Data still buffered (or a TLS close_notify to send): wait_closed() or the last handle
    // going away finishes the job. Tasks waiting to read or drain raise RuntimeError now (as
    // promised above); a wait_closed() already flushing simply waits again.
    if (detail::tls_scheduler != nullptr) {
        detail::tls_scheduler->wake_all(s.io.readers);
        detail::tls_scheduler->wake_all(s.io.writers);
        detail::tls_scheduler->wake_all(s.drainers);
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
