// resolve(): getaddrinfo without blocking the loop.
//
// Numeric addresses are parsed at once (AI_NUMERICHOST never touches the network). Names are
// looked up on a helper thread, detached at once: the waiting task may go away before the
// answer comes (cancelled, or its loop torn down by new_event_loop(), Loop::close() or thread
// exit), and a joinable std::thread destroyed with it would call std::terminate. The thread
// and the task share the Lookup; the task's ThreadSafeFlag lives in the task's frame and is
// published to the thread under the Lookup's mutex, so the thread sets it only while it exists.
#include <netdb.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "asyncio/thread_safe_flag.hpp"
#include "io/sys.hpp"
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
    std::mutex mutex;               // guards `finished` and `waiter`
    bool finished = false;          // the thread has written status and result
    ThreadSafeFlag* waiter = nullptr;  // the waiting task's flag, while it waits
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
    int status = sys::getaddrinfo(node, l.service.c_str(), &hints, &l.result);
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
    std::thread([l] {
        sys::before_name_lookup();  // a test's slow resolver (sys.hpp); nothing otherwise
        int status = lookup(*l, 0);
        std::lock_guard<std::mutex> lock(l->mutex);
        l->status = status;
        l->finished = true;
        if (l->waiter != nullptr) l->waiter->set();
    }).detach();

    ThreadSafeFlag answered;
    // Unpublishes `answered` before it is destroyed, however this frame ends (an answer, a
    // cancel, or the loop's teardown destroying the frame).
    struct Unpublish {
        Lookup& l;
        ~Unpublish() {
            std::lock_guard<std::mutex> lock(l.mutex);
            l.waiter = nullptr;
        }
    } unpublish{*l};
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(l->mutex);
            if (l->finished) break;
            l->waiter = &answered;
        }
        co_await answered.wait();
    }
    co_return endpoints_of(*l, port);
}

}  // namespace asyncio::detail
