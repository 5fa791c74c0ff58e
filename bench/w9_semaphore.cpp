// W9 semaphore-bounded fan-out: 100,000 tasks, each `acquire / sleep(0) / release` on
// Semaphore(100) (as `auto guard = co_await sem;`), created by main and gathered.
// ns_per_task covers creating, running and finishing every task; allocs_per_task counts
// operator new calls while they run (goal: the task frame only, 0 when the frame pool is warm).
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <utility>
#include <vector>

#include "workload.hpp"

namespace {

constexpr int kTasks = 100'000;
constexpr int kPermits = 100;

struct Result {
    double s = 0;
    std::uint64_t allocs = 0;
};

asyncio::Coro<void> worker(asyncio::Semaphore* sem) {
    auto guard = co_await *sem;
    co_await asyncio::sleep(0);
}

asyncio::Coro<void> w9(Result* r) {
    asyncio::Semaphore sem(kPermits);
    std::vector<asyncio::Task<>> tasks;
    tasks.reserve(kTasks);
    auto t0 = bench::Clock::now();
    std::uint64_t a0 = bench::alloc_count();
    for (int i = 0; i < kTasks; ++i) tasks.push_back(asyncio::create_task(worker(&sem)));
    co_await asyncio::gather(std::move(tasks));
    r->allocs = bench::alloc_count() - a0;
    r->s = bench::secs(t0, bench::Clock::now());
}

}  // namespace

int bench::run_w9(const std::string& label) {
    asyncio::get_event_loop();
    Result r;
    asyncio::run(w9(&r));
    std::printf("W9 %s ns_per_task=%.1f wall_s=%.3f allocs_per_task=%.4f\n", label.c_str(), r.s * 1e9 / kTasks, r.s,
                double(r.allocs) / kTasks);
    return 0;
}
