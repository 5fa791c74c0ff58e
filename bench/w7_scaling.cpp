// W7 scaling, CPU-bound part (a loop per core): the W1 body (1,000,000 task switches) and the W4
// body (500,000 event round trips), each 20 times in a row, run by one loop, then by `loops` loops at once, each on
// its own thread (asyncio::run_on_threads). The loops share nothing, so on a machine with that
// many free cores the aggregate throughput should grow with the number of loops.
// One line per (workload, loops):
//   W7 asyncio-cpp workload=W1 loops=2 ops_per_s=... wall_s=... speedup=1.97
// ops_per_s is the sum over the loops of each loop's operations over the slowest loop's wall time
// (the batch is done when its last loop is); speedup is that over the one-loop figure.
#include <asyncio/asyncio.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "workload.hpp"

namespace {

using Body = asyncio::Coro<void> (*)(bench::WorkResult*);

// Each loop runs the body this many times in a row, so a batch lasts a good fraction of a second
// and thread start-up and cold caches do not weigh in.
constexpr int kRepeats = 20;

// One loop's share: the body kRepeats times, the sums in *total.
asyncio::Coro<void> repeated(Body body, bench::WorkResult* total) {
    for (int i = 0; i < kRepeats; ++i) {
        bench::WorkResult r;
        co_await body(&r);
        total->s += r.s;
        total->ops += r.ops;
    }
}

// Runs `body` on `loops` loops at once; total operations per second of the slowest loop's time.
double aggregate_ops_per_s(Body body, int loops, double* wall) {
    std::vector<bench::WorkResult> results(static_cast<std::size_t>(loops));
    auto t0 = bench::Clock::now();
    asyncio::run_on_threads(results.size(), [&](std::size_t i) { return repeated(body, &results[i]); });
    *wall = bench::secs(t0, bench::Clock::now());
    double ops = 0;
    double slowest = 0;
    for (const bench::WorkResult& r : results) {
        ops += r.ops;
        slowest = std::max(slowest, r.s);
    }
    return ops / slowest;
}

}  // namespace

int bench::run_w7(const std::string& label, int loops) {
    const struct {
        const char* name;
        Body body;
    } workloads[] = {{"W1", &w1_body}, {"W4", &w4_body}};
    for (const auto& w : workloads) {
        double wall = 0;
        const double one = aggregate_ops_per_s(w.body, 1, &wall);
        std::printf("W7 %s workload=%s loops=1 ops_per_s=%.0f wall_s=%.3f speedup=1.00\n", label.c_str(), w.name,
                    one, wall);
        if (loops > 1) {
            const double many = aggregate_ops_per_s(w.body, loops, &wall);
            std::printf("W7 %s workload=%s loops=%d ops_per_s=%.0f wall_s=%.3f speedup=%.2f\n", label.c_str(),
                        w.name, loops, many, wall, many / one);
        }
        std::fflush(stdout);
    }
    return 0;
}
