// UDP sockets: create_datagram_endpoint, DatagramSocket.
//
// One non-blocking socket watched edge-triggered like a stream. Every call tries the system call
// first and waits for the next edge only on EAGAIN (datagram sockets may hold many datagrams, so
// the edge cache of streams, which trusts a short read, does not apply).
#include "asyncio/datagram.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "asyncio/errors.hpp"
#include "asyncio/sleep.hpp"
#include "io/io_handle.hpp"
#include "io/sys.hpp"
#include "net/socket.hpp"

namespace asyncio::detail {

struct DatagramState {
    IoHandle io;
    bool closed = false;
    std::optional<Address> remote;  // connected to it
    int family = AF_UNSPEC;         // the socket's, for resolving sendto's addresses without a getsockname each

    ~DatagramState() { close(); }
    void close() noexcept {
        if (closed) return;
        closed = true;
        if (io.fd < 0) return;
        io_unwatch(io);  // wakes every waiter: they find the socket closed
        sys::close(io.fd);
        io.fd = -1;
    }
};

namespace {

constexpr std::size_t kMaxDatagram = 64 * 1024;

char* scratch() {
    thread_local std::unique_ptr<char[]> buffer(new char[kMaxDatagram]);
    return buffer.get();
}

void check_open(const DatagramState& s) {
    if (s.closed) throw RuntimeError("DatagramSocket is closed");
}

[[noreturn]] void throw_udp_error(int err, const char* operation, const Address& a) {
    throw_net_error(err, operation, a.host, a.port);
}

// A numeric address without a trip through the resolver (the common case, e.g. replying to
// recvfrom's sender); false for a name.
bool numeric_endpoint(const Address& a, Endpoint& out) {
    out = Endpoint{};
    auto* in = reinterpret_cast<sockaddr_in*>(&out.addr);
    if (::inet_pton(AF_INET, a.host.c_str(), &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(a.port);
        out.len = sizeof(sockaddr_in);
        return true;
    }
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (::inet_pton(AF_INET6, a.host.c_str(), &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a.port);
        out.len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

// Every endpoint `a` names: itself if numeric, else what the resolver returns.
Coro<std::vector<Endpoint>> endpoints_of(Address a, bool passive) {
    Endpoint e;
    if (!a.host.empty() && numeric_endpoint(a, e)) co_return std::vector<Endpoint>{e};
    co_return co_await resolve(a.host, a.port, passive);
}

// The first resolved endpoint of `family` (AF_UNSPEC: any).
Coro<Endpoint> endpoint_of(Address a, int family, bool passive, const char* operation) {
    std::vector<Endpoint> all = co_await endpoints_of(a, passive);
    for (const Endpoint& ep : all) {
        if (family == AF_UNSPEC || ep.family() == family) co_return ep;
    }
    throw_udp_error(EAFNOSUPPORT, operation, a);
}

std::string describe(const Address& a) { return a.host + " port " + std::to_string(a.port); }

// Sends one datagram to `to` (null: the connected remote), waiting while the kernel is full.
Coro<> send_datagram(std::shared_ptr<DatagramState> s, std::string data, std::optional<Endpoint> to, Address shown) {
    bool waited = false;
    for (;;) {
        check_open(*s);
        const sockaddr* dest = to ? reinterpret_cast<const sockaddr*>(&to->addr) : nullptr;
        ssize_t n = sys::sendto(s->io.fd, data.data(), data.size(), MSG_NOSIGNAL, dest, to ? to->len : 0);
        if (n >= 0) break;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->io.writable = false;
            co_await WaitIo{s->io.writers};
            waited = true;
        } else if (errno != EINTR) {
            throw_udp_error(errno, to ? "sendto" : "send", shown);
        }
    }
    if (!waited) co_await sleep(0);
}

Coro<std::pair<std::string, Address>> receive_datagram(std::shared_ptr<DatagramState> s) {
    bool waited = false;
    for (;;) {
        check_open(*s);
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        // MSG_TRUNC: the datagram's real length, to refuse (never silently cut) an oversized one.
        ssize_t n = sys::recvfrom(s->io.fd, scratch(), kMaxDatagram, MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &len);
        if (n >= 0) {
            Address sender = to_address(reinterpret_cast<const sockaddr*>(&from), len);
            if (static_cast<std::size_t>(n) > kMaxDatagram) {
                throw std::system_error(EMSGSIZE, std::generic_category(),
                                        "recvfrom " + host_port(sender.host, sender.port) + ": a datagram of " +
                                            std::to_string(n) + " bytes exceeds 64 KiB (dropped)");
            }
            std::pair<std::string, Address> out{std::string(scratch(), static_cast<std::size_t>(n)), std::move(sender)};
            if (!waited) co_await sleep(0);
            check_open(*s);
            co_return out;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            s->io.readable = false;
            co_await WaitIo{s->io.readers};
            waited = true;
        } else if (errno != EINTR) {
            throw_udp_error(errno, "recvfrom", s->remote ? *s->remote : Address{});
        }
    }
}

Coro<DatagramSocket> create_endpoint(std::optional<Address> local, std::optional<Address> remote) {
    if (!local && !remote) {
        throw std::invalid_argument("create_datagram_endpoint: needs a local or a remote address (or both)");
    }
    // As CPython: resolve both, then take the first remote endpoint (in the resolver's order)
    // whose family the local address also has; none in common is a ValueError there
    // (std::invalid_argument here), not a system call's error.
    std::vector<Endpoint> remotes;
    std::vector<Endpoint> locals;
    if (remote) remotes = co_await endpoints_of(*remote, false);
    if (local) locals = co_await endpoints_of(*local, true);
    std::optional<Endpoint> remote_ep;
    std::optional<Endpoint> local_ep;
    if (remote && local) {
        for (const Endpoint& r : remotes) {
            for (const Endpoint& l : locals) {
                if (l.family() != r.family()) continue;
                remote_ep = r;
                local_ep = l;
                break;
            }
            if (remote_ep) break;
        }
        if (!remote_ep) {
            throw std::invalid_argument("create_datagram_endpoint: local " + describe(*local) + " and remote " +
                                        describe(*remote) + " have no address family in common");
        }
    } else if (remote) {
        if (remotes.empty()) throw_udp_error(EAFNOSUPPORT, "connect", *remote);
        remote_ep = remotes.front();
    } else {
        if (locals.empty()) throw_udp_error(EAFNOSUPPORT, "bind", *local);
        local_ep = locals.front();
    }
    const int family = remote_ep ? remote_ep->family() : local_ep->family();
    auto state = std::make_shared<DatagramState>();
    state->family = family;
    const Address& shown = local ? *local : *remote;
    state->io.fd = sys::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (state->io.fd < 0) {
        state->closed = true;
        throw_udp_error(errno, "socket", shown);
    }
    if (local_ep && ::bind(state->io.fd, reinterpret_cast<const sockaddr*>(&local_ep->addr), local_ep->len) != 0) {
        throw_udp_error(errno, "bind", *local);
    }
    if (remote_ep) {
        if (sys::connect(state->io.fd, reinterpret_cast<const sockaddr*>(&remote_ep->addr), remote_ep->len) != 0) {
            throw_udp_error(errno, "connect", *remote);
        }
        state->remote = to_address(reinterpret_cast<const sockaddr*>(&remote_ep->addr), remote_ep->len);
    }
    state->io.readable = true;
    state->io.writable = true;
    io_watch(state->io);
    co_return DatagramSocket(std::move(state));
}

}  // namespace

}  // namespace asyncio::detail

namespace asyncio {

namespace {
detail::DatagramState& state_of(const std::shared_ptr<detail::DatagramState>& s) {
    if (!s) throw RuntimeError("DatagramSocket is empty");
    return *s;
}
}  // namespace

Coro<DatagramSocket> create_datagram_endpoint(std::optional<Address> local, std::optional<Address> remote) {
    return detail::create_endpoint(std::move(local), std::move(remote));
}

namespace {
Coro<> sendto_impl(std::shared_ptr<detail::DatagramState> s, std::string data, Address addr) {
    if (s->remote) {
        if (addr != *s->remote) {
            throw std::invalid_argument("sendto: this socket is connected to " +
                                        detail::host_port(s->remote->host, s->remote->port) + ", not " +
                                        detail::host_port(addr.host, addr.port));
        }
        co_await detail::send_datagram(s, std::move(data), std::nullopt, addr);
        co_return;
    }
    detail::Endpoint to = co_await detail::endpoint_of(addr, s->family, false, "sendto");
    co_await detail::send_datagram(s, std::move(data), to, addr);
}
}  // namespace

Coro<> DatagramSocket::sendto(std::string data, Address addr) {
    detail::check_open(state_of(state_));
    return sendto_impl(state_, std::move(data), std::move(addr));
}

Coro<> DatagramSocket::send(std::string data) {
    detail::DatagramState& s = state_of(state_);
    detail::check_open(s);
    if (!s.remote) throw std::invalid_argument("send: the socket is not connected (use sendto with an address)");
    return detail::send_datagram(state_, std::move(data), std::nullopt, *s.remote);
}

Coro<std::pair<std::string, Address>> DatagramSocket::recvfrom() {
    detail::check_open(state_of(state_));
    return detail::receive_datagram(state_);
}

Address DatagramSocket::get_extra_info(std::string_view key) const {
    const detail::DatagramState& s = state_of(state_);
    if (key == "peername") {
        if (!s.remote) throw std::invalid_argument("get_extra_info: 'peername' of a socket that is not connected");
        return *s.remote;
    }
    if (key == "sockname") {
        detail::check_open(s);
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        if (::getsockname(s.io.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::system_error(errno, std::generic_category(), "getsockname");
        }
        return detail::to_address(reinterpret_cast<sockaddr*>(&addr), len);
    }
    throw std::invalid_argument("get_extra_info: unknown key '" + std::string(key) + "' (expected sockname or peername)");
}

void DatagramSocket::close() {
    if (state_) state_->close();
}

bool DatagramSocket::is_closing() const noexcept { return !state_ || state_->closed; }

}  // namespace asyncio
