// Bounded spinning: how the loop and the to_thread workers bridge the sub-microsecond gaps of a
// round trip without a system call (a futex or eventfd wake costs 1-5 us here, a no-op round
// trip through the pool well under 1 us). Each spin is bounded by a short time budget, after
// which the caller sleeps in the kernel as before: an idle loop or pool uses no CPU.
#pragma once

#include <cstdint>

#include "asyncio/detail/scheduler.hpp"

namespace asyncio::detail {

/// How long a worker looks for its next job, and the loop for a to_thread result, before
/// sleeping. Covers the other side's work between two hand-offs (a few hundred ns) with a wide
/// margin for a preempted thread; small beside what a real blocking call costs.
inline constexpr std::int64_t kSpinBudgetNs = 20'000;

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
bool spin_until(Ready&& ready, std::int64_t budget_ns = kSpinBudgetNs) noexcept {
    const std::int64_t until = monotonic_ns() + budget_ns;
    for (;;) {
        for (int i = 0; i < 16; ++i) {
            if (ready()) return true;
            cpu_relax();
        }
        if (monotonic_ns() >= until) return ready();
    }
}

}  // namespace asyncio::detail
