// asyncio_udp_loadgen: closed-loop UDP echo load generator on plain sockets and epoll (no library
// code, so it loads every server the same way). C clients, each its own socket connected to the
// server; each sends one S-byte datagram carrying its sequence number, waits for the echo (content
// checked), sends the next. UDP may drop: a client with no answer after 50 ms sends the next
// datagram and counts one loss; a late answer to an old datagram is ignored.
// Usage: asyncio_udp_loadgen PORT [clients=50] [size=64] [seconds=5] [warmup=1] [label=server]
// Prints: UDP_S<S> <label> msgs_per_s=.. p50_us=.. p99_us=.. clients=.. msg_bytes=.. seconds=..
//         lost=.. client_cpu=.. (CPU time / wall time of this process; near 1.00 = client-bound)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLossTimeout = std::chrono::milliseconds(50);

struct Client {
    int fd = -1;
    std::uint64_t seq = 0;
    Clock::time_point sent{};
};

double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The datagram of sequence number `seq`: the number in its first 8 bytes, then a pattern.
void fill(std::vector<char>& msg, std::uint64_t seq) {
    std::memcpy(msg.data(), &seq, std::min(msg.size(), sizeof seq));
    for (std::size_t i = sizeof seq; i < msg.size(); ++i) msg[i] = static_cast<char>('a' + (seq + i) % 26);
}

bool send_next(Client& c, std::vector<char>& msg) {
    ++c.seq;
    fill(msg, c.seq);
    c.sent = Clock::now();
    return ::send(c.fd, msg.data(), msg.size(), 0) == static_cast<ssize_t>(msg.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PORT [clients=50] [size=64] [seconds=5] [warmup=1] [label]\n", argv[0]);
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int clients = argc > 2 ? std::atoi(argv[2]) : 50;
    const std::size_t size = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 64;
    const double seconds = argc > 4 ? std::atof(argv[4]) : 5;
    const double warmup = argc > 5 ? std::atof(argv[5]) : 1;
    const std::string label = argc > 6 ? argv[6] : "server";
    if (port <= 0 || port > 65535 || clients < 1 || size < 8 || size > 65000 || seconds <= 0 || warmup < 0) {
        std::fprintf(stderr, "udp_loadgen: bad arguments (size must be 8..65000)\n");
        return 2;
    }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<std::uint16_t>(port));
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::vector<Client> all(static_cast<std::size_t>(clients));
    std::vector<char> msg(size), reply(65536);
    for (std::size_t i = 0; i < all.size(); ++i) {
        Client& c = all[i];
        c.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0 || ::connect(c.fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
            std::perror("udp_loadgen: socket/connect");
            return 1;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }

    const auto start = Clock::now();
    const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
    const auto end = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    for (Client& c : all) send_next(c, msg);

    std::vector<double> latencies_us;
    latencies_us.reserve(1 << 20);
    std::uint64_t done = 0, lost = 0, errors = 0;
    double cpu_at_measure = -1;
    std::vector<epoll_event> events(static_cast<std::size_t>(clients));
    for (;;) {
        auto now = Clock::now();
        if (now >= end) break;
        if (cpu_at_measure < 0 && now >= measure_from) cpu_at_measure = cpu_seconds();
        int n = epoll_wait(ep, events.data(), clients, 10);
        now = Clock::now();
        for (int k = 0; k < n; ++k) {
            Client& c = all[events[static_cast<std::size_t>(k)].data.u64];
            for (;;) {
                ssize_t got = ::recv(c.fd, reply.data(), reply.size(), 0);
                if (got < 0) {
                    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ++errors;
                    break;
                }
                std::uint64_t seq = 0;
                if (static_cast<std::size_t>(got) >= sizeof seq) std::memcpy(&seq, reply.data(), sizeof seq);
                if (seq != c.seq) continue;  // a late echo of a datagram already counted lost
                fill(msg, c.seq);
                if (static_cast<std::size_t>(got) != size || std::memcmp(reply.data(), msg.data(), size) != 0) {
                    ++errors;
                    continue;
                }
                if (now >= measure_from) {
                    ++done;
                    latencies_us.push_back(std::chrono::duration<double, std::micro>(now - c.sent).count());
                }
                if (!send_next(c, msg)) ++errors;
            }
        }
        for (Client& c : all) {  // no answer in time: the datagram (or its echo) was dropped
            if (now - c.sent > kLossTimeout) {
                if (now >= measure_from) ++lost;
                if (!send_next(c, msg)) ++errors;
            }
        }
    }
    const double wall = std::chrono::duration<double>(Clock::now() - measure_from).count();
    const double cpu = cpu_at_measure < 0 ? 0 : cpu_seconds() - cpu_at_measure;
    std::sort(latencies_us.begin(), latencies_us.end());
    auto pct = [&](double p) {
        return latencies_us.empty() ? 0.0 : latencies_us[static_cast<std::size_t>(p * static_cast<double>(latencies_us.size() - 1))];
    };
    std::printf("UDP_S%zu %s msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f clients=%d msg_bytes=%zu seconds=%.1f lost=%llu errors=%llu client_cpu=%.2f\n",
                size, label.c_str(), static_cast<double>(done) / wall, pct(0.50), pct(0.99), clients, size, seconds,
                static_cast<unsigned long long>(lost), static_cast<unsigned long long>(errors), cpu / wall);
    for (Client& c : all) ::close(c.fd);
    ::close(ep);
    return errors == 0 ? 0 : 1;
}
