// Cross-thread workloads: TT to_thread round trip (submit a no-op, await its result: ns per
// call, one call in flight at a time) and CST call_soon_threadsafe throughput (4 threads post
// 250,000 callbacks each to one loop: calls per second, from the first post to the last call).
#include <asyncio/asyncio.hpp>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "workload.hpp"

namespace {

constexpr int kRoundTrips = 20'000;
constexpr int kPosters = 4;
constexpr int kPostsEach = 250'000;

asyncio::Coro<double> round_trips() {
    co_await asyncio::to_thread([] {});  // warm-up: the first worker thread starts here
    auto t0 = bench::Clock::now();
    for (int i = 0; i < kRoundTrips; ++i) co_await asyncio::to_thread([] {});
    co_return bench::secs(t0, bench::Clock::now());
}

}  // namespace

int bench::run_to_thread(const std::string& label) {
    double s = asyncio::run(round_trips());
    std::printf("TT %s ns_per_call=%.1f wall_s=%.3f\n", label.c_str(), s * 1e9 / kRoundTrips, s);
    return 0;
}

int bench::run_call_soon_threadsafe(const std::string& label) {
    asyncio::Loop& loop = asyncio::get_event_loop();
    long done = 0;
    std::atomic<bool> go{false};
    std::vector<std::thread> posters;
    for (int t = 0; t < kPosters; ++t) {
        posters.emplace_back([&] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (int i = 0; i < kPostsEach; ++i) loop.call_soon_threadsafe([&done] { ++done; });
        });
    }
    auto main = [](long* d, std::atomic<bool>* g) -> asyncio::Coro<double> {
        auto t0 = bench::Clock::now();
        g->store(true, std::memory_order_release);
        while (*d < long(kPosters) * kPostsEach) co_await asyncio::sleep_ms(1);
        co_return bench::secs(t0, bench::Clock::now());
    };
    double s = asyncio::run(main(&done, &go));
    for (auto& p : posters) p.join();
    const double n = double(kPosters) * kPostsEach;
    std::printf("CST %s calls_per_s=%.0f threads=%d wall_s=%.3f\n", label.c_str(), n / s, kPosters, s);
    return 0;
}
