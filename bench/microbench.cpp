// asyncio_microbench: Google Benchmark cases for the hot paths (PERFORMANCE.md §7).
// Run: asyncio_microbench --benchmark_repetitions=9 --benchmark_report_aggregates_only=true
// Each case runs its timed loop inside one task of asyncio::run(); new_event_loop() afterwards
// drops whatever background tasks the case left behind. "allocs" = operator new per iteration.
#include <asyncio/asyncio.hpp>
#include <benchmark/benchmark.h>

#include <vector>

#include "workload.hpp"

namespace {

using asyncio::Coro;

void report_allocs(benchmark::State& st, std::uint64_t a0) {
    st.counters["allocs"] = benchmark::Counter(double(bench::alloc_count() - a0),
                                               benchmark::Counter::kAvgIterations);
}

Coro<void> spinner() {
    for (;;) co_await asyncio::sleep(0);
}
Coro<int> trivial(int x) { co_return x; }
Coro<void> long_sleeper() { co_await asyncio::sleep_ms(3'600'000); }

// sleep(0) round trip: the main task plus `others` tasks that yield forever; one iteration =
// one yield of main = (others + 1) switches.
Coro<void> yield_loop(benchmark::State* st, int others) {
    for (int i = 0; i < others; ++i) asyncio::create_task(spinner());
    co_await asyncio::sleep(0);  // let them start
    std::uint64_t a0 = bench::alloc_count();
    for (auto _ : *st) co_await asyncio::sleep(0);
    report_allocs(*st, a0);
    st->counters["ns_per_switch"] = benchmark::Counter(double(st->iterations()) * (others + 1),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void BM_Yield(benchmark::State& st) {
    asyncio::run(yield_loop(&st, static_cast<int>(st.range(0)) - 1));
    asyncio::new_event_loop();
}
BENCHMARK(BM_Yield)->Arg(1)->Arg(100);

// create_task + first run + co_await of a trivial task (one frame per iteration).
Coro<void> spawn_loop(benchmark::State* st) {
    std::uint64_t a0 = bench::alloc_count();
    for (auto _ : *st) {
        auto t = asyncio::create_task(trivial(1));
        int v = co_await t;
        benchmark::DoNotOptimize(v);
    }
    report_allocs(*st, a0);
}
void BM_SpawnAwait(benchmark::State& st) { asyncio::run(spawn_loop(&st)); }
BENCHMARK(BM_SpawnAwait);

// A task that goes to sleep (timer insert) and is cancelled (timer remove, CancelledError
// thrown in it), with 10,000 other sleepers in the heap.
Coro<void> sleep_cancel_loop(benchmark::State* st, int live) {
    for (int i = 0; i < live; ++i) asyncio::create_task(long_sleeper());
    co_await asyncio::sleep(0);  // the sleepers run once and enter the timer heap
    std::uint64_t a0 = bench::alloc_count();
    for (auto _ : *st) {
        auto t = asyncio::create_task(long_sleeper());
        co_await asyncio::sleep(0);  // t runs: timer insert
        t.cancel();                  // timer remove, t queued with the cancel pending
        co_await asyncio::sleep(0);  // t runs: CancelledError, finishes
    }
    report_allocs(*st, a0);
}
void BM_SleepCancel(benchmark::State& st) {
    asyncio::run(sleep_cancel_loop(&st, static_cast<int>(st.range(0))));
    asyncio::new_event_loop();
}
BENCHMARK(BM_SleepCancel)->Arg(10'000);

// The timer heap alone: insert + remove of one entry among `live` (internal API).
void BM_TimerHeapInsertRemove(benchmark::State& st) {
    const int live = static_cast<int>(st.range(0));
    std::vector<asyncio::detail::TaskBase> tasks(static_cast<std::size_t>(live) + 1);
    asyncio::detail::TimerHeap heap;
    std::uint64_t seq = 0;
    for (int i = 0; i < live; ++i) {
        tasks[i].seq = seq++;
        heap.insert(&tasks[i], (i * 7919LL) % 1'000'000'000LL);
    }
    asyncio::detail::TaskBase& t = tasks.back();
    std::int64_t key = 0;
    for (auto _ : st) {
        t.seq = seq++;
        heap.insert(&t, key);
        heap.remove(&t);
        key = (key + 104'729) % 1'000'000'000LL;
    }
}
BENCHMARK(BM_TimerHeapInsertRemove)->Arg(10'000);

// co_await of a Coro that completes without suspending (frame alloc + inline run + free).
Coro<void> sync_await_loop(benchmark::State* st) {
    std::uint64_t a0 = bench::alloc_count();
    for (auto _ : *st) {
        int v = co_await trivial(1);
        benchmark::DoNotOptimize(v);
    }
    report_allocs(*st, a0);
}
void BM_AwaitSyncCoro(benchmark::State& st) { asyncio::run(sync_await_loop(&st)); }
BENCHMARK(BM_AwaitSyncCoro);

}  // namespace

BENCHMARK_MAIN();
