/// @file
/// UDP: create_datagram_endpoint and DatagramSocket (CPython's loop.create_datagram_endpoint,
/// with coroutines in place of the protocol callbacks).
///
///      const asyncio::Address local{"127.0.0.1", 0}, peer{"127.0.0.1", 9999};
///      asyncio::DatagramSocket s = co_await asyncio::create_datagram_endpoint(local, std::nullopt);
///      co_await s.sendto("ping", peer);
///      auto [data, from] = co_await s.recvfrom();                  // one whole datagram
///      s.close();
///
/// `local` binds the socket (port 0: an ephemeral port; host "" or "0.0.0.0": every IPv4
/// interface, "::" IPv6); `remote` connects it, so send() needs no address and only the remote's
/// datagrams are received. At least one is required (std::invalid_argument otherwise). With both,
/// the first remote address (in the resolver's order) whose family (IPv4 or IPv6) the local one
/// also has is used; none in common raises std::invalid_argument, as CPython's ValueError. Host
/// names are resolved off the loop, as for open_connection.
///
/// recvfrom() returns one whole datagram (up to 64 KiB, which holds any UDP datagram without
/// IPv6 jumbograms; an empty datagram is an empty string) and its sender. sendto()/send() send
/// one datagram or raise: a datagram larger than the path allows raises std::system_error
/// (EMSGSIZE); nothing is ever split. On a connected socket, an ICMP error the kernel received
/// for an earlier datagram (port unreachable: ECONNREFUSED) raises std::system_error from the
/// next sendto/send/recvfrom, including a recvfrom already waiting. Every call suspends at least
/// once (a scheduling point), so a flood of datagrams cannot starve other tasks.
///
/// Name an Address before co_await rather than writing Address{...} inside the co_await
/// expression: g++ 12 destroys such a braced temporary twice (see docs/pitfalls.md).
///
/// DatagramSocket is a copyable handle: copies share one socket, closed by close() or when the
/// last copy goes. After close(), calls raise RuntimeError, and calls already waiting raise it at
/// once. Several tasks may wait in recvfrom at once: each datagram goes to one of them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/export.hpp"
#include "asyncio/stream.hpp"

namespace asyncio {

namespace detail {
struct DatagramState;
}

/// A UDP socket from create_datagram_endpoint(): a copyable handle, copies share the socket.
class ASYNCIO_API DatagramSocket {
public:
    /// An empty handle; sockets come from create_datagram_endpoint.
    DatagramSocket() = default;

    /// Sends `data` as one datagram to `addr` (on a connected socket `addr` must be the remote).
    Coro<> sendto(std::string data, Address addr);
    /// Sends `data` as one datagram to the connected remote.
    Coro<> send(std::string data);
    /// The next datagram and its sender.
    Coro<std::pair<std::string, Address>> recvfrom();

    /// "sockname": the bound address; "peername": the connected remote (std::invalid_argument if
    /// not connected, or for other keys).
    [[nodiscard]] Address get_extra_info(std::string_view key) const;
    /// Closes the socket; waiting calls raise RuntimeError. Calling it twice is harmless.
    void close();
    /// True once close() was called.
    [[nodiscard]] bool is_closing() const noexcept;

    /// False for a default-constructed (empty) handle.
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }
    friend bool operator==(const DatagramSocket& a, const DatagramSocket& b) noexcept { return a.state_ == b.state_; }

    /// @private
    explicit DatagramSocket(std::shared_ptr<detail::DatagramState> state) noexcept : state_(std::move(state)) {}

private:
    std::shared_ptr<detail::DatagramState> state_;
};

/// A UDP socket bound to `local` and/or connected to `remote` (at least one of them).
ASYNCIO_API Coro<DatagramSocket> create_datagram_endpoint(std::optional<Address> local, std::optional<Address> remote);

}  // namespace asyncio
