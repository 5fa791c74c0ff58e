// W4 event ping-pong: two tasks, two asyncio::Event `ping` / `pong`, 500,000 round trips.
//   A: repeat N: ping.set(); co_await pong.wait(); pong.clear();
//   B: repeat N: co_await ping.wait(); ping.clear(); pong.set();
// Main creates B then A and gathers them. allocs_per_roundtrip counts operator new calls from
// the moment both tasks exist until the gather returns (the gather's own few included).
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <utility>
#include <vector>

#include "workload.hpp"

namespace {

constexpr int kRoundTrips = 500'000;

asyncio::Coro<void> pinger(asyncio::Event* ping, asyncio::Event* pong, int n) {
    for (int i = 0; i < n; ++i) {
        ping->set();
        co_await pong->wait();
        pong->clear();
    }
}

asyncio::Coro<void> ponger(asyncio::Event* ping, asyncio::Event* pong, int n) {
    for (int i = 0; i < n; ++i) {
        co_await ping->wait();
        ping->clear();
        pong->set();
    }
}

}  // namespace

asyncio::Coro<void> bench::w4_body(WorkResult* r) {
    asyncio::Event ping;
    asyncio::Event pong;
    std::vector<asyncio::Task<>> tasks;
    tasks.reserve(2);
    auto t0 = bench::Clock::now();
    tasks.push_back(asyncio::create_task(ponger(&ping, &pong, kRoundTrips)));
    tasks.push_back(asyncio::create_task(pinger(&ping, &pong, kRoundTrips)));
    std::uint64_t a0 = bench::alloc_count();
    co_await asyncio::gather(std::move(tasks));
    r->s = bench::secs(t0, bench::Clock::now());
    r->allocs = bench::alloc_count() - a0;
    r->ops = kRoundTrips;
}

int bench::run_w4(const std::string& label) {
    asyncio::get_event_loop();  // runtime start-up outside the measurement
    WorkResult r;
    asyncio::run(w4_body(&r));
    std::printf("W4 %s ns_per_roundtrip=%.1f wall_s=%.3f allocs_per_roundtrip=%.4f\n", label.c_str(),
                r.s * 1e9 / kRoundTrips, r.s, double(r.allocs) / kRoundTrips);
    return 0;
}
