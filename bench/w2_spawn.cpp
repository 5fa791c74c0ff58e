// W2 spawn: 1,000 rounds x 1,000 tasks of `f(x) -> x`; main awaits each handle in order and
// checks the sum 499,500. allocs_per_task counts every operator new in the timed window.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "workload.hpp"

namespace {

constexpr int kRounds = 1000;
constexpr int kTasks = 1000;

struct Result {
    double s = 0;
    std::uint64_t allocs = 0;
    bool ok = true;
};

asyncio::Coro<int> f(int x) { co_return x; }

asyncio::Coro<void> w2(Result* r) {
    std::vector<asyncio::Task<int>> tasks;
    tasks.reserve(kTasks);
    std::uint64_t a0 = bench::alloc_count();
    auto t0 = bench::Clock::now();
    for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < kTasks; ++i) tasks.push_back(asyncio::create_task(f(i)));
        long sum = 0;
        for (auto& t : tasks) sum += co_await t;
        tasks.clear();
        if (sum != 499'500) {
            std::fprintf(stderr, "W2: bad sum %ld\n", sum);
            r->ok = false;
            co_return;
        }
    }
    r->s = bench::secs(t0, bench::Clock::now());
    r->allocs = bench::alloc_count() - a0;
}

}  // namespace

int bench::run_w2(const std::string& label) {
    asyncio::get_event_loop();
    Result r;
    asyncio::run(w2(&r));
    if (!r.ok) return 1;
    const double n = double(kRounds) * kTasks;
    std::printf("W2 %s ns_per_task=%.1f wall_s=%.3f allocs_per_task=%.3f\n", label.c_str(),
                r.s * 1e9 / n, r.s, double(r.allocs) / n);
    return 0;
}
