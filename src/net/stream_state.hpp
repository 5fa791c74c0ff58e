// StreamState: what one connection owns, shared by its reader and writer handles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "asyncio/detail/scheduler.hpp"
#include "asyncio/stream.hpp"
#include "io/io_handle.hpp"
#include "net/read_buffer.hpp"
#include "net/write_chain.hpp"

namespace asyncio::detail {

class TlsSession;

struct StreamState;

/// The stream's flush for this loop round: queued on the run queue by the first write() of a
/// round, it sends everything buffered with one sendmsg and wakes the drain() calls waiting
/// for it.
struct RoundFlush : LoopCallback {
    explicit RoundFlush(StreamState* s) noexcept : LoopCallback(&run), stream(s) {}
    static void run(LoopCallback& self) noexcept;
    StreamState* stream;
};

struct StreamState {
    IoHandle io;
    ReadBuffer rbuf;        // received, not yet read
    WriteChain wbuf;        // written, not yet handed to the kernel
    std::uint64_t written_total = 0;  // bytes ever accepted by write()
    std::uint64_t sent_total = 0;     // bytes ever handed to the kernel (or dropped by a failure)
    std::size_t high_water = 64 * 1024;  // set_write_buffer_limits
    std::size_t low_water = 16 * 1024;
    RoundFlush round_flush{this};
    bool round_flush_queued = false;
    WaitQueue drainers;            // drain() calls waiting for the round's flush
    unsigned active_flushes = 0;   // drain()/wait_closed() calls sending themselves
    std::exception_ptr unseen_write_error;  // a round flush failed while no drain() waited
    bool eof = false;
    std::size_t limit = 0;            // readline's longest line (set_limit); 0: none
    const char* reader = nullptr;     // the read call holding the read side ("readline()"), or null
    unsigned write_failures = 0;          // send errors so far: a drain that saw one raises too
    std::exception_ptr write_exception;  // the last of them
    bool closed = false;     // close() was called: no more reads or writes
    bool fd_closed = false;  // the socket itself is closed
    Address peer;
    std::unique_ptr<TlsSession> tls;  // null for plain TCP
    double tls_shutdown_timeout = 30.0;  // seconds wait_closed() may spend on a TLS close
    bool socket = true;  // false for open_fd's pipes, FIFOs and ttys: read()/write(), not recv/send

    /// Takes ownership of the connected, non-blocking socket `fd` (or, with `is_socket` false,
    /// pipe / FIFO / tty) and watches it. On failure the fd is closed and the error raised.
    StreamState(int fd, Address peer_address, bool is_socket = true);
    ~StreamState();
    StreamState(const StreamState&) = delete;
    StreamState& operator=(const StreamState&) = delete;

    [[nodiscard]] std::size_t buffered() const noexcept { return rbuf.size(); }
    /// Removes and returns the first `n` buffered bytes.
    std::string take(std::size_t n) { return rbuf.take(n); }
    /// Sends what it can of the output buffer without waiting, then closes the socket.
    void close_socket() noexcept;
};

}  // namespace asyncio::detail
