// W5 lock: 100 tasks x 1,000 times `{ auto guard = co_await lock; co_await asyncio::sleep(0); }`
// (the `async with lock:` form) = 100,000 acquisitions, every one but the first a FIFO hand-off.
// Main creates the tasks and gathers them. allocs_per_acquire as in W4.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <utility>
#include <vector>

#include "workload.hpp"

namespace {

constexpr int kTasks = 100;
constexpr int kIters = 1000;

struct Result {
    double s = 0;
    std::uint64_t allocs = 0;
};

asyncio::Coro<void> locker(asyncio::Lock* lock, int n) {
    for (int i = 0; i < n; ++i) {
        auto guard = co_await *lock;
        co_await asyncio::sleep(0);
    }
}

asyncio::Coro<void> w5(Result* r) {
    asyncio::Lock lock;
    std::vector<asyncio::Task<>> tasks;
    tasks.reserve(kTasks);
    auto t0 = bench::Clock::now();
    for (int i = 0; i < kTasks; ++i) tasks.push_back(asyncio::create_task(locker(&lock, kIters)));
    std::uint64_t a0 = bench::alloc_count();
    co_await asyncio::gather(std::move(tasks));
    r->s = bench::secs(t0, bench::Clock::now());
    r->allocs = bench::alloc_count() - a0;
}

}  // namespace

int bench::run_w5(const std::string& label) {
    asyncio::get_event_loop();
    Result r;
    asyncio::run(w5(&r));
    const double n = double(kTasks) * kIters;
    std::printf("W5 %s ns_per_acquire=%.1f wall_s=%.3f allocs_per_acquire=%.4f\n", label.c_str(),
                r.s * 1e9 / n, r.s, double(r.allocs) / n);
    return 0;
}
