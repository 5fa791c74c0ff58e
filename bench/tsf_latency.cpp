// asyncio_tsf_latency: wake-up latency of ThreadSafeFlag, from set() on another thread to the
// waiting task running. A setter thread and the loop's task ping-pong N times: the thread waits
// until the task has acknowledged the previous wake-up (an std::atomic), spins `gap_us` more so
// the loop is parked in the kernel (gap 0: set at once, racing the task's next wait()), takes
// steady_clock, calls set(); the task takes steady_clock right after `co_await flag.wait()`.
// Usage: asyncio_tsf_latency [n=100000] [gap_us=50] [label=asyncio-cpp]
// Pins the loop (main thread) to CPU 1 and the setter to CPU 0 when both exist.
// Prints: TSF <label> p50_us=.. p99_us=.. n=.. gap_us=.. max_us=.. mean_us=.. over_1ms=.. over_50ms=..
#include <asyncio/asyncio.hpp>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "workload.hpp"

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(bench::Clock::now().time_since_epoch()).count();
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

bool pin_to(int cpu) {
    if (static_cast<int>(std::thread::hardware_concurrency()) <= cpu) return false;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

struct Shared {
    asyncio::ThreadSafeFlag flag;
    std::atomic<std::int64_t> t_set{0};
    std::atomic<int> ack{-1};  // index of the last wake-up the task has seen
    std::vector<std::int64_t> lat_ns;
};

asyncio::Coro<void> waiter(Shared* sh, int n) {
    for (int i = 0; i < n; ++i) {
        co_await sh->flag.wait();
        const std::int64_t t1 = now_ns();
        sh->lat_ns[static_cast<std::size_t>(i)] = t1 - sh->t_set.load(std::memory_order_acquire);
        sh->ack.store(i, std::memory_order_release);
    }
}

void setter(Shared* sh, int n, std::int64_t gap_ns) {
    pin_to(0);
    for (int i = 0; i < n; ++i) {
        while (sh->ack.load(std::memory_order_acquire) != i - 1) cpu_relax();
        if (gap_ns > 0) {
            const std::int64_t until = now_ns() + gap_ns;
            while (now_ns() < until) cpu_relax();
        }
        sh->t_set.store(now_ns(), std::memory_order_release);
        sh->flag.set();
    }
}

double pct_us(std::vector<std::int64_t>& v, double q) {
    std::size_t k = static_cast<std::size_t>(q * double(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return double(v[k]) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 100'000;
    const double gap_us = argc > 2 ? std::atof(argv[2]) : 50.0;
    const std::string label = argc > 3 ? argv[3] : "asyncio-cpp";
    if (n <= 0) return 2;
    const bool pinned = pin_to(1);
    Shared sh;
    sh.lat_ns.assign(static_cast<std::size_t>(n), 0);
    asyncio::get_event_loop();
    std::thread t(setter, &sh, n, static_cast<std::int64_t>(gap_us * 1e3));
    asyncio::run(waiter(&sh, n));
    t.join();

    double sum = 0;
    int over_1ms = 0, over_50ms = 0;
    for (std::int64_t x : sh.lat_ns) {
        sum += double(x);
        over_1ms += x > 1'000'000;
        over_50ms += x > 50'000'000;
    }
    const double mean = sum / n / 1e3;
    const double mx = double(*std::max_element(sh.lat_ns.begin(), sh.lat_ns.end())) / 1e3;
    const double p50 = pct_us(sh.lat_ns, 0.50);
    const double p99 = pct_us(sh.lat_ns, 0.99);
    std::printf("TSF %s p50_us=%.1f p99_us=%.1f n=%d gap_us=%.0f max_us=%.1f mean_us=%.1f over_1ms=%d over_50ms=%d "
                "pinned=%d\n", label.c_str(), p50, p99, n, gap_us, mx, mean, over_1ms, over_50ms, pinned ? 1 : 0);
    return 0;
}
