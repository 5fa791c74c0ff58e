// asyncio_tls_loadgen: closed-loop TLS echo load generator on this library's own client
// (open_connection with a client SSLContext), for `asyncio_bench tls-server`. Same protocol as
// the peers' common/loadgen.cpp: C connections, each sends one S-byte message, waits for the
// full echo (content checked), sends the next; warm-up not counted, then the measured window.
// Usage: asyncio_tls_loadgen PORT CA|-|plain [conns=50] [size=64] [seconds=5] [warmup=1] [label]
//   CA: the server's certificate (verified, host name "localhost"); "-": no verification;
//   "plain": no TLS at all (`asyncio_bench server`), so plain and TLS echo are driven by the
//   same client code (bench/peers/tls.sh compares them). Plain lines start W6PLAIN_<S>.
// Prints: W6TLS_<S> <label> msgs_per_s=.. p50_us=.. p99_us=.. conns=.. msg_bytes=.. seconds=..
//         errors=.. client_cpu=.. (CPU time / wall time of this process; near 1.00 = client-bound)
// One thread, one loop: the client's TLS work competes with its own scheduling, so watch
// client_cpu. Bounded: a connection stops sending at warmup+seconds; main gives up 2 s later.
#include <asyncio/asyncio.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "workload.hpp"

namespace {

struct Shared {
    std::uint16_t port = 0;
    std::size_t size = 64;
    bool plain = false;  // no TLS
    bench::Clock::time_point t_measure, t_end;
    std::vector<std::uint32_t> lat_ns;  // messages sent in the measured window
    std::uint64_t measured = 0;         // their echoes completed in the window
    std::uint64_t errors = 0;
    int connected = 0;
    std::string first_error;
};

std::string message(std::size_t size, std::uint32_t seq, int idx) {
    std::string m(size, '\0');
    const std::uint32_t off = (seq + static_cast<std::uint32_t>(idx)) & 0xff;
    for (std::size_t k = 0; k < size; ++k) m[k] = static_cast<char>((off + k) * 7);
    return m;
}

asyncio::Coro<std::pair<asyncio::Stream, asyncio::Stream>> connect(Shared* sh, asyncio::ssl::SSLContext ctx) {
    if (sh->plain) co_return co_await asyncio::open_connection("127.0.0.1", sh->port);
    co_return co_await asyncio::open_connection("127.0.0.1", sh->port, ctx, "localhost");
}

asyncio::Coro<void> client(Shared* sh, asyncio::ssl::SSLContext ctx, int idx) {
    try {
        auto conn = co_await connect(sh, ctx);
        asyncio::Stream reader = conn.first;
        asyncio::Stream writer = conn.second;
        ++sh->connected;
        for (std::uint32_t seq = 0;; ++seq) {
            const std::string m = message(sh->size, seq, idx);
            const auto t0 = bench::Clock::now();
            if (t0 >= sh->t_end) break;
            writer.write(m);
            co_await writer.drain();
            std::string got = co_await reader.readexactly(sh->size);
            const auto t1 = bench::Clock::now();
            if (got != m) {
                ++sh->errors;
                break;
            }
            if (t0 >= sh->t_measure) {
                sh->lat_ns.push_back(static_cast<std::uint32_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
                if (t1 <= sh->t_end) ++sh->measured;
            }
        }
        writer.close();
        co_await writer.wait_closed();
    } catch (const std::exception& e) {
        ++sh->errors;
        if (sh->first_error.empty()) sh->first_error = e.what();
    }
}

asyncio::Coro<void> drive(Shared* sh, asyncio::ssl::SSLContext ctx, int conns, double seconds, double warmup) {
    const auto t_start = bench::Clock::now();
    sh->t_measure = t_start + std::chrono::duration_cast<bench::Clock::duration>(std::chrono::duration<double>(warmup));
    sh->t_end = sh->t_measure + std::chrono::duration_cast<bench::Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<asyncio::Task<>> tasks;
    tasks.reserve(static_cast<std::size_t>(conns));
    for (int i = 0; i < conns; ++i) tasks.push_back(asyncio::create_task(client(sh, ctx, i)));
    try {
        co_await asyncio::wait_for(asyncio::gather(std::move(tasks)), warmup + seconds + 2.0);
    } catch (const asyncio::TimeoutError&) {
        ++sh->errors;
        if (sh->first_error.empty()) sh->first_error = "timeout";
    }
}

double cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double percentile_us(std::vector<std::uint32_t>& v, double q) {
    if (v.empty()) return 0;
    std::size_t k = static_cast<std::size_t>(q * double(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return v[k] / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s PORT CA|-|plain [conns=50] [size=64] [seconds=5] [warmup=1] [label]\n", argv[0]);
        return 2;
    }
    Shared sh;
    sh.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    const std::string ca = argv[2];
    const int conns = argc > 3 ? std::atoi(argv[3]) : 50;
    sh.size = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 64;
    const double seconds = argc > 5 ? std::atof(argv[5]) : 5.0;
    const double warmup = argc > 6 ? std::atof(argv[6]) : 1.0;
    const std::string label = argc > 7 ? argv[7] : "asyncio-cpp";
    sh.lat_ns.reserve(4'000'000);

    asyncio::ssl::SSLContext ctx(asyncio::ssl::PROTOCOL_TLS_CLIENT);
    sh.plain = ca == "plain";
    if (ca == "-" || sh.plain) {
        ctx.check_hostname(false);
        ctx.verify_mode(asyncio::ssl::CERT_NONE);
    } else {
        ctx.load_verify_locations(ca);
    }
    asyncio::get_event_loop();
    const double cpu0 = cpu_s();
    const auto w0 = bench::Clock::now();
    asyncio::run(drive(&sh, ctx, conns, seconds, warmup));
    const double wall = bench::secs(w0, bench::Clock::now());
    const double client_cpu = (cpu_s() - cpu0) / wall;

    const double p50 = percentile_us(sh.lat_ns, 0.50);
    const double p99 = percentile_us(sh.lat_ns, 0.99);
    std::printf("W6%s_%zu %s msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f conns=%d msg_bytes=%zu seconds=%.0f "
                "errors=%llu connected=%d client_cpu=%.2f\n",
                sh.plain ? "PLAIN" : "TLS", sh.size, label.c_str(), double(sh.measured) / seconds, p50, p99, conns, sh.size, seconds,
                static_cast<unsigned long long>(sh.errors), sh.connected, client_cpu);
    if (!sh.first_error.empty()) std::fprintf(stderr, "first error: %s\n", sh.first_error.c_str());
    return sh.errors == 0 ? 0 : 1;
}
