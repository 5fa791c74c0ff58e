// W8 queue hand-off: one producer task, one consumer task, Queue<int>(64), 1,000,000 items.
// ns_per_item over the whole transfer; allocs_per_item counts operator new calls during it
// (goal: 0 — the ring buffer is allocated before the clock starts, waiting allocates nothing).
#include <asyncio/asyncio.hpp>

#include <cstdio>

#include "workload.hpp"

namespace {

constexpr int kItems = 1'000'000;
constexpr std::size_t kMaxsize = 64;

struct Result {
    double s = 0;
    std::uint64_t allocs = 0;
    long long sum = 0;
};

asyncio::Coro<void> producer(asyncio::Queue<int>* q, int n) {
    for (int i = 0; i < n; ++i) co_await q->put(i);
}

asyncio::Coro<long long> consumer(asyncio::Queue<int>* q, int n) {
    long long sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await q->get();
    co_return sum;
}

asyncio::Coro<void> w8(Result* r) {
    asyncio::Queue<int> q(kMaxsize);
    for (std::size_t i = 0; i < kMaxsize; ++i) q.put_nowait(0);  // grow the ring once, then empty it
    for (std::size_t i = 0; i < kMaxsize; ++i) (void)q.get_nowait();
    auto t0 = bench::Clock::now();
    asyncio::Task<long long> c = asyncio::create_task(consumer(&q, kItems));
    asyncio::Task<> p = asyncio::create_task(producer(&q, kItems));
    std::uint64_t a0 = bench::alloc_count();
    r->sum = co_await c;
    co_await p;
    r->allocs = bench::alloc_count() - a0;
    r->s = bench::secs(t0, bench::Clock::now());
}

}  // namespace

int bench::run_w8(const std::string& label) {
    asyncio::get_event_loop();
    Result r;
    asyncio::run(w8(&r));
    if (r.sum != static_cast<long long>(kItems) * (kItems - 1) / 2) {
        std::fprintf(stderr, "W8: wrong sum %lld\n", r.sum);
        return 1;
    }
    std::printf("W8 %s ns_per_item=%.1f wall_s=%.3f allocs_per_item=%.4f\n", label.c_str(), r.s * 1e9 / kItems, r.s,
                double(r.allocs) / kItems);
    return 0;
}
