// asyncio_bench: the peers' workloads (/work/shared/peers/WORKLOADS.md) on this library.
// Usage: asyncio_bench W1|W2|W3|W4|W5|TT|CST|W8|W9|SP [label] | W7 [label [loops]]  |  asyncio_bench server PORT  (W6 echo, until killed)
//        asyncio_bench tls-server PORT CERT KEY   (the W6 echo over TLS; bench/tls_certs.sh)
// Prints one KEY=VALUE line per run, as the peers do, so run.sh's EXTRA_PEER can call it.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "workload.hpp"

long bench::status_kb(const char* key) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
    }
    return -1;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s W1|W2|W3|W4|W5|TT|CST|W8|W9|SP [label] | W7 [label [loops]] | server PORT | tls-server PORT CERT KEY | udp-server PORT\n", argv[0]);
        return 2;
    }
    const std::string w = argv[1];
    const std::string label = argc > 2 ? argv[2] : "asyncio-cpp";
    if (w == "W1") return bench::run_w1(label);
    if (w == "W2") return bench::run_w2(label);
    if (w == "W3") return bench::run_w3(label);
    if (w == "W4") return bench::run_w4(label);
    if (w == "W5") return bench::run_w5(label);
    if (w == "TT") return bench::run_to_thread(label);
    if (w == "CST") return bench::run_call_soon_threadsafe(label);
    if (w == "W8") return bench::run_w8(label);
    if (w == "W9") return bench::run_w9(label);
    if (w == "SP") return bench::run_spawn(label);
    if (w == "W7") return bench::run_w7(label, argc > 3 ? std::atoi(argv[3]) : 2);
    if (w == "server") return bench::run_server(argc, argv);
    if (w == "tls-server") return bench::run_tls_server(argc, argv);
    if (w == "udp-server") return bench::run_udp_server(argc, argv);
    std::fprintf(stderr, "unknown workload %s\n", w.c_str());
    return 2;
}
