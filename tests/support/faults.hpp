// Test support: arm the library's system-call seam (src/io/sys.hpp) with a seeded fault plan.
//
//   FaultInjector faults(FaultClass::ShortIo, /*seed=*/7);  // tracks sockets, injects nothing yet
//   ... start the server ...
//   faults.set_probability(0.3);                           // now ~30 % of eligible calls fault
//
// The same class, seed and sequence of calls inject the same faults (the plan is a splitmix64
// stream consumed once per eligible call), so a failure names its seed (describe()) and can be
// replayed. One injector at a time per process; the destructor disarms the seam.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "io/sys.hpp"
#include "support/process_counts.hpp"  // open_fd_count(), for the tests that arm faults

namespace asyncio::testing {

enum class FaultClass {
    Eintr,         // recv/send/read/write/recvfrom/sendto/accept4/epoll_pwait2/close report EINTR
    ShortIo,       // recv/send/read/write move 1..n-1 bytes
    EagainStorm,   // recv/send/read/write/recvfrom/sendto/accept4 report EAGAIN although ready
                   // (the edge comes right after)
    ConnReset,     // recv/send report ECONNRESET/EPIPE and the socket is really shut down
    AcceptErrors,  // accept4 fails with the errors accept(2) says to retry, or EMFILE/ENFILE/ENOBUFS/ENOMEM
    EpollCtlFail,  // epoll_ctl(ADD) fails with ENOMEM/ENOSPC
    ResolveFail,   // getaddrinfo fails (EAI_AGAIN, EAI_FAIL, EAI_MEMORY, EAI_SYSTEM)
    ConnectFail,   // socket() fails with EMFILE, connect() with ECONNREFUSED/ENETUNREACH
    DatagramRefused,  // recvfrom/sendto report ECONNREFUSED (a pending ICMP port unreachable)
};

const char* to_string(FaultClass c) noexcept;

class FaultInjector {
public:
    FaultInjector(FaultClass fault_class, std::uint64_t seed, double probability = 0.0);
    ~FaultInjector();
    FaultInjector(const FaultInjector&) = delete;
    FaultInjector& operator=(const FaultInjector&) = delete;

    /// Fraction of eligible calls that fault from now on (0: none, the seam only tracks).
    void set_probability(double p) noexcept;
    /// Faults injected so far.
    [[nodiscard]] std::uint64_t injected() const noexcept;
    /// "class=short-io seed=7 p=0.3 injected=42", for assertion messages.
    [[nodiscard]] std::string describe() const;

private:
    static detail::sys::Decision hook(void* self, detail::sys::Call call, int fd, std::size_t size, int op);
    detail::sys::Decision decide(detail::sys::Call call, std::size_t size, int op);
    std::uint64_t next() noexcept;

    FaultClass class_;
    std::uint64_t seed_;
    std::uint64_t state_;
    std::uint32_t threshold_ = 0;  // fault when the next 32 random bits are below it
    std::uint64_t injected_ = 0;   // written under the seam's lock
};

/// Arms the seam with a hook that never faults and counts the loop's polls for I/O
/// (epoll_pwait2 calls), so a test can tell loop rounds that looked at I/O apart.
class PollCounter {
public:
    PollCounter();
    ~PollCounter();
    PollCounter(const PollCounter&) = delete;
    PollCounter& operator=(const PollCounter&) = delete;
    [[nodiscard]] std::uint64_t polls() const noexcept { return polls_.load(std::memory_order_relaxed); }

private:
    static detail::sys::Decision hook(void* self, detail::sys::Call call, int fd, std::size_t size, int op);
    std::atomic<std::uint64_t> polls_{0};
};

}  // namespace asyncio::testing
