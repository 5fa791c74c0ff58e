// SP: subprocess spawn + wait of /bin/true, one child at a time: microseconds per child, from
// create_subprocess_exec to the reaped exit status (the loop learns the exit through a pidfd).
// bench/peers/subprocess.sh runs it beside CPython's asyncio and Go's os/exec.
#include <asyncio/asyncio.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "workload.hpp"

namespace {

constexpr int kChildren = 1000;

asyncio::Coro<double> spawn_and_wait() {
    std::vector<std::string> no_args;
    asyncio::ProcessOptions opts;
    asyncio::Process warm = co_await asyncio::create_subprocess_exec("/bin/true", no_args, opts);
    co_await warm.wait();
    auto t0 = bench::Clock::now();
    for (int i = 0; i < kChildren; ++i) {
        asyncio::Process p = co_await asyncio::create_subprocess_exec("/bin/true", no_args, opts);
        if (co_await p.wait() != 0) std::fprintf(stderr, "SP: /bin/true failed\n");
    }
    co_return bench::secs(t0, bench::Clock::now());
}

}  // namespace

int bench::run_spawn(const std::string& label) {
    double s = asyncio::run(spawn_and_wait());
    std::printf("SP %s us_per_child=%.1f children=%d wall_s=%.3f\n", label.c_str(), s * 1e6 / kChildren, kChildren, s);
    return 0;
}
