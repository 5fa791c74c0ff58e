// Stream, open_connection (the seed's "TCP stream connections").
//
//   auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", 8080);
//   writer.write("ping\n");
//   co_await writer.drain();                   // sends; waits only while the kernel is full
//   std::string line = co_await reader.readline();
//   writer.close();
//   co_await writer.wait_closed();
//
// One Stream serves both directions (reader and writer are copies of one handle, as in
// MicroPython). Reads are served from an internal buffer filled by large recv() calls, so
// readline/readexactly cost no system call per byte. write() only appends to the output buffer
// (no system call, as the seed documents); drain() sends it, and write errors surface there.
// Every read and drain() is a scheduling point (it suspends at least once). A peer reset raises
// std::system_error (ECONNRESET reads, EPIPE/ECONNRESET writes), never SIGPIPE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "asyncio/coro.hpp"

namespace asyncio {

namespace ssl {
class SSLContext;
}

/// A peer's address: `auto [host, port] = stream.get_extra_info("peername");`
struct Address {
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const Address&, const Address&) = default;
};

namespace detail {
struct StreamState;
}

class Stream {
public:
    /// An empty handle; streams come from open_connection and start_server.
    Stream() = default;

    /// Up to `n` bytes (n < 0: everything until end of stream). Empty at end of stream.
    /// Bytes received before an error are returned first; the error comes on the next read.
    Coro<std::string> read(long n = -1);
    /// Reads up to buf.size() bytes into `buf`; 0 at end of stream (or for an empty buffer).
    Coro<std::size_t> readinto(std::span<std::byte> buf);
    Coro<std::size_t> readinto(std::span<char> buf);
    /// Exactly `n` bytes; EOFError if the stream ends first (the partial bytes stay readable).
    Coro<std::string> readexactly(std::size_t n);
    /// One line including its '\n'; at end of stream the rest without '\n', then "".
    Coro<std::string> readline();

    /// Appends to the output buffer; nothing is sent until drain() (or wait_closed()).
    void write(std::string_view data);
    void write(std::span<const std::byte> data);
    /// Sends everything buffered, waiting while the kernel's buffer is full.
    Coro<> drain();

    /// Closes the stream: reads and writes after it raise RuntimeError. The socket is closed at
    /// once if nothing waits to be sent; otherwise wait_closed() (or dropping the last handle)
    /// sends what it can first.
    void close();
    /// Sends what is still buffered (best effort), closes the socket, and returns once closed.
    Coro<> wait_closed();

    /// "peername": the peer's address; "sockname": ours. Other keys raise std::invalid_argument.
    [[nodiscard]] Address get_extra_info(std::string_view key) const;

    explicit operator bool() const noexcept { return static_cast<bool>(state_); }
    friend bool operator==(const Stream& a, const Stream& b) noexcept { return a.state_ == b.state_; }

    /// Internal: wraps a connected socket.
    explicit Stream(std::shared_ptr<detail::StreamState> state) noexcept : state_(std::move(state)) {}

private:
    std::shared_ptr<detail::StreamState> state_;
};

using StreamReader = Stream;
using StreamWriter = Stream;

/// Opens a TCP connection to host:port. Numeric IPv4/IPv6 addresses connect without a
/// resolver; names are resolved on a helper thread, never blocking the loop. Tries each
/// resolved address in turn. Failures raise std::system_error naming the host and port.
Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port);
/// As above, over TLS with the default client context (system CAs, host name check, SNI).
Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port, bool ssl);
/// As above, over TLS with `context`; `server_hostname` (default: host) is checked and sent
/// as SNI.
Coro<std::pair<Stream, Stream>> open_connection(std::string host, std::uint16_t port, ssl::SSLContext context,
                                                std::string server_hostname = {});

}  // namespace asyncio
