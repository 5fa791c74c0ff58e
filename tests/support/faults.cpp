// Test support: seeded fault plans for the system-call seam. See faults.hpp.
#include "support/faults.hpp"

#include <netdb.h>

#include <cerrno>
#include <iterator>

namespace asyncio::testing {

using detail::sys::Call;
using detail::sys::Decision;

const char* to_string(FaultClass c) noexcept {
    switch (c) {
    case FaultClass::Eintr: return "eintr";
    case FaultClass::ShortIo: return "short-io";
    case FaultClass::EagainStorm: return "eagain-storm";
    case FaultClass::ConnReset: return "conn-reset";
    case FaultClass::AcceptErrors: return "accept-errors";
    case FaultClass::EpollCtlFail: return "epoll-ctl-fail";
    case FaultClass::ResolveFail: return "resolve-fail";
    case FaultClass::ConnectFail: return "connect-fail";
    case FaultClass::DatagramRefused: return "datagram-refused";
    }
    return "?";
}

FaultInjector::FaultInjector(FaultClass fault_class, std::uint64_t seed, double probability)
    : class_(fault_class), seed_(seed), state_(seed) {
    set_probability(probability);
    detail::sys::set_fault_hook(&FaultInjector::hook, this);
}

FaultInjector::~FaultInjector() { detail::sys::set_fault_hook(nullptr, nullptr); }

void FaultInjector::set_probability(double p) noexcept {
    if (p <= 0) p = 0;
    if (p >= 1) p = 1;
    // Written while the seam may be consulted on another thread (the resolver): atomic ref.
    std::atomic_ref<std::uint32_t>(threshold_).store(static_cast<std::uint32_t>(p * 4294967295.0),
                                                      std::memory_order_relaxed);
}

std::uint64_t FaultInjector::injected() const noexcept {
    return std::atomic_ref<const std::uint64_t>(injected_).load(std::memory_order_relaxed);
}

std::string FaultInjector::describe() const {
    double p = std::atomic_ref<const std::uint32_t>(threshold_).load(std::memory_order_relaxed) / 4294967295.0;
    return std::string("class=") + to_string(class_) + " seed=" + std::to_string(seed_) + " p=" + std::to_string(p) +
           " injected=" + std::to_string(injected());
}

std::uint64_t FaultInjector::next() noexcept {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

Decision FaultInjector::hook(void* self, Call call, int, std::size_t size, int op) {
    return static_cast<FaultInjector*>(self)->decide(call, size, op);
}

namespace {
template <std::size_t N>
int pick(const int (&errors)[N], std::uint64_t r) {
    return errors[r % N];
}
Decision fail(int err) { return Decision{Decision::Fail, err, 0, 0}; }
}  // namespace

Decision FaultInjector::decide(Call call, std::size_t size, int op) {
    const bool bytes = call == Call::Recv || call == Call::Send || call == Call::Read || call == Call::Write;
    const bool datagrams = call == Call::RecvFrom || call == Call::SendTo;
    bool eligible = false;
    switch (class_) {
    case FaultClass::Eintr:
        eligible = bytes || datagrams || call == Call::Accept || call == Call::EpollWait || call == Call::Close;
        break;
    case FaultClass::ShortIo:
        eligible = bytes && size > 1;
        break;
    case FaultClass::EagainStorm:
        eligible = bytes || datagrams || call == Call::Accept;
        break;
    case FaultClass::ConnReset:
        eligible = call == Call::Recv || call == Call::Send;
        break;
    case FaultClass::DatagramRefused:
        eligible = datagrams;
        break;
    case FaultClass::AcceptErrors:
        eligible = call == Call::Accept;
        break;
    case FaultClass::EpollCtlFail:
        eligible = call == Call::EpollCtl && op == EPOLL_CTL_ADD;
        break;
    case FaultClass::ResolveFail:
        eligible = call == Call::Getaddrinfo;
        break;
    case FaultClass::ConnectFail:
        eligible = call == Call::Connect || call == Call::Socket;
        break;
    }
    if (!eligible) return {};
    std::uint64_t r = next();
    std::uint32_t threshold = std::atomic_ref<std::uint32_t>(threshold_).load(std::memory_order_relaxed);
    if (static_cast<std::uint32_t>(r) >= threshold || threshold == 0) return {};
    std::atomic_ref<std::uint64_t>(injected_).fetch_add(1, std::memory_order_relaxed);
    std::uint64_t r2 = r >> 32;
    switch (class_) {
    case FaultClass::Eintr: return fail(EINTR);
    case FaultClass::ShortIo: {
        std::size_t cap = size - 1 < 4096 ? size - 1 : 4096;
        return Decision{Decision::Short, 0, 0, 1 + static_cast<std::size_t>(r2 % cap)};
    }
    case FaultClass::EagainStorm: return fail(EAGAIN);
    case FaultClass::ConnReset: return fail(call == Call::Send ? EPIPE : ECONNRESET);
    case FaultClass::AcceptErrors: {
        // accept(2)'s "retry" list (a connection's pending network error), then exhaustion.
        static constexpr int kErrors[] = {ECONNABORTED, EINTR,  EPROTO, EPERM,     ENETDOWN, ENOPROTOOPT,
                                          EHOSTDOWN,    ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, ECONNRESET,
                                          ETIMEDOUT,    EMFILE, ENFILE, ENOBUFS,   ENOMEM};
        return fail(pick(kErrors, r2));
    }
    case FaultClass::EpollCtlFail: {
        static constexpr int kErrors[] = {ENOMEM, ENOSPC};
        return fail(pick(kErrors, r2));
    }
    case FaultClass::ResolveFail: {
        static constexpr int kErrors[] = {EAI_AGAIN, EAI_FAIL, EAI_MEMORY, EAI_SYSTEM};
        Decision d = fail(pick(kErrors, r2));
        d.sys_errno = ENOMEM;
        return d;
    }
    case FaultClass::ConnectFail: {
        if (call == Call::Socket) return fail(EMFILE);
        static constexpr int kErrors[] = {ECONNREFUSED, ENETUNREACH, ETIMEDOUT};
        return fail(pick(kErrors, r2));
    }
    case FaultClass::DatagramRefused: return fail(ECONNREFUSED);
    }
    return {};
}

PollCounter::PollCounter() { detail::sys::set_fault_hook(&PollCounter::hook, this); }

PollCounter::~PollCounter() { detail::sys::set_fault_hook(nullptr, nullptr); }

Decision PollCounter::hook(void* self, Call call, int, std::size_t, int) {
    if (call == Call::EpollWait) static_cast<PollCounter*>(self)->polls_.fetch_add(1, std::memory_order_relaxed);
    return {};
}

}  // namespace asyncio::testing
