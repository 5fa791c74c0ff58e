// resolve(): getaddrinfo without blocking the loop.
//
// Numeric addresses are parsed at once (AI_NUMERICHOST never touches the network). Names are
// looked up on a helper thread; its answer comes back through a ThreadSafeFlag, so the waiting
// task sleeps in the poller like any other. If that task is cancelled, the thread is detached
// and finishes on its own: the state it writes is shared, never freed under it.
#include <netdb.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "asyncio/thread_safe_flag.hpp"
#include "net/socket.hpp"

namespace asyncio::detail {

namespace {

struct Lookup {
    std::string host;
    std::string service;
    bool passive = false;
    int status = 0;
    int sys_errno = 0;  // errno of the thread that ran getaddrinfo, for EAI_SYSTEM
    addrinfo* result = nullptr;
    ThreadSafeFlag done;
    ~Lookup() {
        if (result != nullptr) ::freeaddrinfo(result);
    }
};

int lookup(Lookup& l, int extra_flags) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | extra_flags | (l.passive ? AI_PASSIVE : 0);
    const char* node = l.host.empty() ? nullptr : l.host.c_str();
    int status = ::getaddrinfo(node, l.service.c_str(), &hints, &l.result);
    if (status == EAI_SYSTEM) l.sys_errno = errno;
    return status;
}

std::vector<Endpoint> endpoints_of(const Lookup& l, std::uint16_t port) {
    if (l.status != 0) {
        int code = l.status == EAI_SYSTEM ? l.sys_errno : l.status;
        const std::error_category& cat = l.status == EAI_SYSTEM ? std::generic_category() : resolver_category();
        throw std::system_error(code, cat, "getaddrinfo " + host_port(l.host, port));
    }
    std::vector<Endpoint> out;
    for (addrinfo* ai = l.result; ai != nullptr; ai = ai->ai_next) {
        Endpoint e;
        std::memcpy(&e.addr, ai->ai_addr, ai->ai_addrlen);
        e.len = ai->ai_addrlen;
        out.push_back(e);
    }
    return out;
}

}  // namespace

Coro<std::vector<Endpoint>> resolve(std::string host, std::uint16_t port, bool passive) {
    auto l = std::make_shared<Lookup>();
    l->host = std::move(host);
    l->service = std::to_string(port);
    l->passive = passive;
    l->status = lookup(*l, AI_NUMERICHOST);
    if (l->status != EAI_NONAME || l->host.empty()) co_return endpoints_of(*l, port);

    // A name: ask on a helper thread, wait through the poller.
    l->status = 0;
    std::thread worker([l] {
        l->status = lookup(*l, 0);
        l->done.set();
    });
    try {
        co_await l->done.wait();
    } catch (...) {
        worker.detach();  // cancelled: the thread finishes alone, holding its share of `l`
        throw;
    }
    worker.join();
    co_return endpoints_of(*l, port);
}

}  // namespace asyncio::detail
