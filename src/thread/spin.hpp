// Bounded spinning: how the loop and the to_thread workers bridge the sub-microsecond gaps of a
// round trip without a system call (a futex or eventfd wake costs 1-5 us here, a no-op round
// trip through the pool well under 1 us). Each spin is bounded by a short time budget, after
// which the caller sleeps in the kernel as before: an idle loop or pool uses no CPU.
#pragma once

#include <algorithm>
#include <cstdint>

#include "asyncio/detail/scheduler.hpp"

namespace asyncio::detail {

/// How long a worker looks for its next job, and the loop for a to_thread result, before
/// sleeping: adapted per spinner between these bounds (AdaptiveSpin). The other side's work
/// between two hand-offs is a few hundred ns, but on a loaded machine the other thread is often
/// preempted for a while; spinning up to 200 us rides out the short preemptions (measured: a
/// no-op round trip under load ~6 us with 200 us, ~25 us with 20 us, ~70 us without spinning).
inline constexpr std::int64_t kMinSpinNs = 4'000;
inline constexpr std::int64_t kMaxSpinNs = 200'000;
/// The loop spins no longer than this while it also watches fds: I/O that becomes ready during
/// the spin waits for its end.
inline constexpr std::int64_t kMaxSpinWithIoNs = 20'000;

/// Tells the CPU this is a spin-wait (saves power, frees the sibling hyper-thread).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    asm volatile("yield" ::: "memory");
#else
    asm volatile("" ::: "memory");
#endif
}

/// Spins until `ready()` is true (returns true) or `budget_ns` has passed (returns false).
/// The clock (vDSO, ~20 ns) is read once per 16 checks.
template <class Ready>
bool spin_until(Ready&& ready, std::int64_t budget_ns) noexcept {
    const std::int64_t until = monotonic_ns() + budget_ns;
    for (;;) {
        for (int i = 0; i < 16; ++i) {
            if (ready()) return true;
            cpu_relax();
        }
        if (monotonic_ns() >= until) return ready();
    }
}

/// A spinner's budget: doubled after a spin that found what it waited for, halved after one
/// that gave up. Calls made back to back keep it at the top; a thread whose spins keep failing
/// (calls far apart, or long blocking calls) soon spins only kMinSpinNs before sleeping, so the
/// CPU spent spinning stays a small fraction of the work done.
class AdaptiveSpin {
public:
    /// Spins for at most the budget and at most `cap_ns`. A give-up cut short by the cap says
    /// nothing about the budget, which then stays as it was.
    template <class Ready>
    bool spin(Ready&& ready, std::int64_t cap_ns = kMaxSpinNs) noexcept {
        const bool capped = cap_ns < budget_ns_;
        const bool found = spin_until(ready, capped ? cap_ns : budget_ns_);
        if (found) {
            budget_ns_ = std::min(budget_ns_ * 2, kMaxSpinNs);
        } else if (!capped) {
            budget_ns_ = std::max(budget_ns_ / 2, kMinSpinNs);
        }
        return found;
    }
    [[nodiscard]] std::int64_t budget_ns() const noexcept { return budget_ns_; }

private:
    std::int64_t budget_ns_ = 4 * kMinSpinNs;
};

/// Locks `lockable` (a mutex or a std::unique_lock), first trying for a moment while another
/// thread holds it for a few instructions: glibc's mutex puts a thread to sleep on a futex at
/// the first conflict, and its holder then pays a futex wake when it unlocks.
template <class Lockable>
void lock_spinning(Lockable& lockable) {
    for (int i = 0; i < 256; ++i) {
        if (lockable.try_lock()) return;
        cpu_relax();
    }
    lockable.lock();
}

}  // namespace asyncio::detail
