/// @file
/// Stream, open_connection (the seed's "TCP stream connections").
///
///      auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", 8080);
///      writer.write("ping\n");
///      co_await writer.drain();                   // sends; waits only while the kernel is full
///      std::string line = co_await reader.readline();
///      writer.close();
///      co_await writer.wait_closed();
///
/// One Stream serves both directions (reader and writer are copies of one handle, as in
/// MicroPython). Reads are served from an internal buffer filled by large recv() calls, so
/// readline/readexactly cost no system call per byte. write() only appends to the output buffer
/// (no system call, as the seed documents). drain() returns once everything written before it
/// was handed to the kernel; below the high-water mark it does not send itself but waits for
/// the stream's send of this loop round, which goes after the tasks already runnable and
/// carries everything buffered by then in one sendmsg (so several writes, and drains from
/// several tasks, cost one system call). Write errors surface at drain().
/// Every read and drain() is a scheduling point (it suspends at least once). A peer reset raises
/// std::system_error (ECONNRESET reads, EPIPE/ECONNRESET writes), never SIGPIPE.
///
/// One task reads a stream at a time (as in CPython): a read that arrives while another task's
/// read is waiting for data raises RuntimeError naming both calls. Several tasks may drain() at
/// once: each returns when everything written before it is sent, or raises the write error.
/// readline() has no length limit unless set_limit() sets one (MicroPython has none).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <type_traits>
#include <string>
#include <string_view>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

namespace ssl {
class SSLContext;
}

/// A peer's address: `auto [host, port] = stream.get_extra_info("peername");`
struct Address {
    Address() = default;
    // A constructor, so Address is not an aggregate: g++ 12 destroys a braced aggregate
    // temporary twice inside a co_await expression; with a constructor, writing
    // `co_await f(Address{"127.0.0.1", 0})` is safe (tests/pitfalls_test.cpp checks it).
    /// `host_name` and `port_number`, as given.
    Address(std::string host_name, std::uint16_t port_number)
        : host(std::move(host_name)), port(port_number) {}

    std::string host;  ///< numeric address (or path for Unix sockets)
    std::uint16_t port = 0;  ///< port; 0 for Unix sockets
    friend bool operator==(const Address&, const Address&) = default;
};

namespace detail {
struct StreamState;

/// A writable contiguous range of byte-sized elements that outlives the read: a span, or a
/// container (std::vector, std::array, std::string, ...) passed as an lvalue.
template <class R>
concept ByteBuffer = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> &&
                     (std::is_lvalue_reference_v<R> || std::ranges::borrowed_range<R>) &&
                     sizeof(std::ranges::range_value_t<R>) == 1 &&
                     std::is_trivially_copyable_v<std::ranges::range_value_t<R>> &&
                     !std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>;
}  // namespace detail

/// One end of a connection (TCP, TLS, Unix socket or fd): a copyable handle, reader and
/// writer at once.
class ASYNCIO_API Stream {
public:
    /// An empty handle; streams come from open_connection and start_server.
    Stream() = default;

    /// Up to `n` bytes (n < 0: everything until end of stream). Empty at end of stream.
    /// Bytes received before an error are returned first; the error comes on the next read.
    Coro<std::string> read(long n = -1);
    /// Reads up to buf.size() bytes into `buf`; 0 at end of stream (or for an empty buffer).
    /// `buf` is any contiguous range of byte-sized elements (char, unsigned char, std::uint8_t,
    /// std::byte): a std::span, or a std::vector / std::array / std::string it must outlive the
    /// read, so containers are taken as lvalues only.
    Coro<std::size_t> readinto(std::span<std::byte> buf);
    /// readinto() into a span of `char`.
    Coro<std::size_t> readinto(std::span<char> buf);
    /// readinto() into any writable contiguous range of bytes (see detail::ByteBuffer).
    template <class R>
        requires detail::ByteBuffer<R>
    Coro<std::size_t> readinto(R&& buf) {
        return readinto(std::span<char>(reinterpret_cast<char*>(std::ranges::data(buf)), std::ranges::size(buf)));
    }
    /// Exactly `n` bytes; EOFError if the stream ends first (the partial bytes stay readable).
    Coro<std::string> readexactly(std::size_t n);
    /// One line including its '\n'; at end of stream the rest without '\n', then "".
    /// With a limit set (set_limit), a line longer than the limit (its '\n' not counted)
    /// raises LimitOverrunError and every byte stays buffered for the next read.
    Coro<std::string> readline();
    /// The longest line readline() accepts, in bytes without the '\n'; 0 (the default): no
    /// limit. Memory held for a line stays within about the limit plus one 256 KiB receive.
    void set_limit(std::size_t n);

    /// Appends a copy of `data` to the output buffer; nothing is sent until drain() (or
    /// wait_closed()). Raises RuntimeError, appending nothing, if the bytes buffered would pass
    /// the hard limit (see kWriteBufferHardLimit).
    void write(std::string_view data);
    /// write() of raw bytes.
    void write(std::span<const std::byte> data);
    /// write() of a std::string passed as an rvalue: a string of 4 KiB or more is not copied,
    /// the stream keeps its storage until it is sent (shorter ones are copied).
    template <class S>
        requires std::same_as<S, std::string>
    void write(S&& data) {
        write_owned(std::move(data));
    }
    /// Returns once everything written before the call was handed to the kernel, waiting while
    /// the kernel's buffer is full. With the buffer at or below the high-water mark it makes no
    /// system call of its own: it waits for the stream's send of this loop round (one sendmsg
    /// of everything buffered, shared by every drain() of the round).
    /// Several tasks may drain at once; a write error raises in every one of them (and, if no
    /// drain() was waiting when the loop's send failed, in the next drain()).
    Coro<> drain();

    /// CPython's transport.set_write_buffer_limits(high, low): `high` defaults to 64 KiB (4 ×
    /// `low` if only `low` is given), `low` to high / 4; high < low raises
    /// std::invalid_argument. Above `high`, drain() sends at once instead of waiting for the
    /// loop's round; drain() still returns only when everything is in the kernel, so `low` is
    /// kept for get_write_buffer_limits() only. The hard limit follows `high` (see below).
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                 std::optional<std::size_t> low = std::nullopt);
    /// {low, high}, as CPython's get_write_buffer_limits().
    [[nodiscard]] std::pair<std::size_t, std::size_t> get_write_buffer_limits() const;
    /// Bytes written and not yet handed to the kernel.
    [[nodiscard]] std::size_t get_write_buffer_size() const;
    /// The least hard limit on bytes waiting to be sent: a write() that would pass
    /// max(kWriteBufferHardLimit, 4 × high-water mark) raises RuntimeError instead of growing
    /// memory without bound (a writer that never drains a peer that never reads).
    static constexpr std::size_t kWriteBufferHardLimit = std::size_t{64} << 20;

    /// Closes the stream: reads and writes after it raise RuntimeError, and so do reads and
    /// drains already waiting (at once). The socket is closed at once if nothing waits to be
    /// sent; otherwise wait_closed() (or dropping the last handle) sends what it can first.
    void close();
    /// Sends what is still buffered (best effort), closes the socket, and returns once closed.
    Coro<> wait_closed();

    /// "peername": the peer's address; "sockname": ours. Other keys raise std::invalid_argument.
    [[nodiscard]] Address get_extra_info(std::string_view key) const;

    /// False for a default-constructed (empty) handle.
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }
    friend bool operator==(const Stream& a, const Stream& b) noexcept { return a.state_ == b.state_; }

    /// Internal: wraps a connected socket.
    explicit Stream(std::shared_ptr<detail::StreamState> state) noexcept : state_(std::move(state)) {}

private:
    void write_owned(std::string&& data);
    std::shared_ptr<detail::StreamState> state_;
};

using StreamReader = Stream;  ///< CPython's name for the reading side: the same Stream
using StreamWriter = Stream;  ///< CPython's name for the writing side: the same Stream

/// Opens a TCP connection to host:port. Numeric IPv4/IPv6 addresses connect without a
/// resolver; names are resolved on a helper thread, never blocking the loop. Tries each
/// resolved address in turn. Failures raise std::system_error naming the host and port.
ASYNCIO_API Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port);
/// As above, over TLS with the default client context (system CAs, host name check, SNI).
ASYNCIO_API Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port, bool ssl);
/// As above, over TLS with `context`; `server_hostname` (default: host) is checked and sent
/// as SNI.
ASYNCIO_API Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port, ssl::SSLContext context,
                                                std::string server_hostname = {});

}  // namespace asyncio
