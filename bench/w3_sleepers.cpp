// W3 sleepers: 100,000 tasks, task i does `co_await asyncio::sleep_ms(d_i)` (d_i from the LCG
// of WORKLOADS.md, 0..1000 ms); main awaits each handle in order. RSS from /proc/self/status.
#include <asyncio/asyncio.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "workload.hpp"

namespace {

constexpr int kTasks = 100'000;

struct Result {
    double ms = 0;
    long idle_kb = 0;
    long peak_kb = 0;
};

asyncio::Coro<void> sleeper(int ms) { co_await asyncio::sleep_ms(ms); }

asyncio::Coro<void> w3(const std::vector<int>* delays, Result* r) {
    r->idle_kb = bench::status_kb("VmRSS:");
    std::vector<asyncio::Task<>> tasks;
    tasks.reserve(kTasks);
    auto t0 = bench::Clock::now();
    for (int d : *delays) tasks.push_back(asyncio::create_task(sleeper(d)));
    for (auto& t : tasks) co_await t;
    r->ms = bench::secs(t0, bench::Clock::now()) * 1e3;
    r->peak_kb = bench::status_kb("VmHWM:");
}

}  // namespace

int bench::run_w3(const std::string& label) {
    std::vector<int> delays(kTasks);
    std::uint64_t x = 12345;
    for (int& d : delays) {
        x = (1103515245 * x + 12345) % 2147483648ULL;
        d = static_cast<int>(x % 1001);
    }
    asyncio::get_event_loop();
    Result r;
    asyncio::run(w3(&delays, &r));
    std::printf("W3 %s wall_ms=%.1f overshoot_ms=%.1f idle_rss_kb=%ld peak_rss_kb=%ld bytes_per_task=%.1f\n",
                label.c_str(), r.ms, r.ms - 1000, r.idle_kb, r.peak_kb,
                double(r.peak_kb - r.idle_kb) * 1024.0 / kTasks);
    return 0;
}
