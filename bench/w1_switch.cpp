// W1 switch: 100 tasks x 10,000 `co_await asyncio::sleep(0)` = 1,000,000 switches.
// Main creates the tasks, then awaits each handle in order (no gather yet).
// allocs_per_switch counts operator new calls from the moment every task is created (the
// frames are allocated then) until the last one is awaited, divided by the switches.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <vector>

#include "workload.hpp"

namespace {

constexpr int kTasks = 100;
constexpr int kIters = 10'000;

asyncio::Coro<void> switcher(int n) {
    for (int i = 0; i < n; ++i) co_await asyncio::sleep(0);
}

}  // namespace

asyncio::Coro<void> bench::w1_body(WorkResult* r) {
    std::vector<asyncio::Task<>> tasks;
    tasks.reserve(kTasks);
    auto t0 = bench::Clock::now();
    for (int i = 0; i < kTasks; ++i) tasks.push_back(asyncio::create_task(switcher(kIters)));
    std::uint64_t a0 = bench::alloc_count();
    for (auto& t : tasks) co_await t;
    r->s = bench::secs(t0, bench::Clock::now());
    r->allocs = bench::alloc_count() - a0;
    r->ops = double(kTasks) * kIters;
}

int bench::run_w1(const std::string& label) {
    asyncio::get_event_loop();  // runtime start-up outside the measurement
    WorkResult r;
    asyncio::run(w1_body(&r));
    const double n = r.ops;
    std::printf("W1 %s ns_per_switch=%.1f wall_s=%.3f allocs_per_switch=%.4f\n", label.c_str(),
                r.s * 1e9 / n, r.s, double(r.allocs) / n);
    return 0;
}
