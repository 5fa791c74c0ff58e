// Shared bits of the asyncio_bench workloads (bench/w*.cpp): one function per workload, each
// prints its one KEY=VALUE line (peers' format, /work/shared/peers/WORKLOADS.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <asyncio/coro.hpp>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double secs(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

/// Allocations (operator new calls, every form) since start-up; bench/alloc_counter.cpp.
std::uint64_t alloc_count() noexcept;

/// A field of /proc/self/status in KiB ("VmRSS:", "VmHWM:"), or -1.
long status_kb(const char* key);

/// What one run of a CPU-bound workload body measured.
struct WorkResult {
    double s = 0;              ///< wall seconds of the measured part
    double ops = 0;            ///< operations done in it (switches, round trips)
    std::uint64_t allocs = 0;  ///< operator new calls during it
};

/// The W1 (1,000,000 task switches) and W4 (500,000 event round trips) bodies, run by
/// run_w1/run_w4 on one loop and by run_w7 on several loops at once.
asyncio::Coro<void> w1_body(WorkResult* r);
asyncio::Coro<void> w4_body(WorkResult* r);

int run_w1(const std::string& label);
int run_w2(const std::string& label);
int run_w3(const std::string& label);
int run_w4(const std::string& label);
int run_w5(const std::string& label);
/// TT: to_thread round trip; CST: call_soon_threadsafe throughput from 4 threads.
int run_to_thread(const std::string& label);
int run_call_soon_threadsafe(const std::string& label);
int run_w8(const std::string& label);
int run_w9(const std::string& label);
/// W7 (a): W1 and W4 by one loop, then by `loops` loops on as many threads at once.
int run_w7(const std::string& label, int loops);
/// SP: subprocess spawn + wait of /bin/true, microseconds per child.
int run_spawn(const std::string& label);
/// W6: `server PORT` / `tls-server PORT CERT KEY` (argv as main's); serve until killed.
int run_server(int argc, char** argv);
int run_tls_server(int argc, char** argv);
/// UDP echo: `udp-server PORT` (argv as main's); serve until killed.
int run_udp_server(int argc, char** argv);

}  // namespace bench
