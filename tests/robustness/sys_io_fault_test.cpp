// Fault injection beyond TCP streams: pipes (open_fd streams: read/write) and UDP sockets
// (recvfrom/sendto), through the same system-call seam as the TCP echo of fault_test.cpp.
// EINTR and EAGAIN are retried or waited out: every byte and every datagram arrives once, in
// order, and nothing hangs (each exchange runs under a 10 s wait_for). An ECONNREFUSED (a
// datagram socket's pending ICMP error) raises from that one call, and the socket goes on
// working: the datagram that was queued is still received.
#include <asyncio/asyncio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include "robustness/echo.hpp"
#include "support/faults.hpp"
#include "support/test_loop.hpp"

namespace asyncio::testing {
namespace {

using SysIoFaultTest = LoopTest;

constexpr double kExchangeSeconds = 10;

Coro<> write_in_chunks(Stream out, std::string data) {
    for (std::size_t off = 0; off < data.size(); off += 5000) {
        out.write(std::string_view(data).substr(off, 5000));
        co_await out.drain();
    }
    out.close();
    co_await out.wait_closed();
}

/// 256 KiB through a pipe (more than its 64 KiB buffer, so the writer waits for space too).
Coro<bool> pipe_transfer(std::uint64_t seed) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    Stream in = open_fd(p[0]);
    Stream out = open_fd(p[1]);
    std::string data = payload(256 * 1024, seed);
    Task<> writer = create_task(write_in_chunks(std::move(out), data));
    std::string got = co_await in.read(-1);  // to end of file
    co_await std::move(writer);
    in.close();
    co_return got == data;
}

/// `count` datagrams one way and back, each answered before the next (loopback UDP then never
/// drops one for want of buffer space, so any loss is the library's).
Coro<int> udp_ping_pong(int count, std::uint64_t seed) {
    const Address local{"127.0.0.1", 0};
    DatagramSocket server = co_await create_datagram_endpoint(local, std::nullopt);
    const Address server_address = server.get_extra_info("sockname");
    DatagramSocket client = co_await create_datagram_endpoint(std::nullopt, server_address);
    int answered = 0;
    for (int i = 0; i < count; ++i) {
        std::string msg = payload(1 + static_cast<std::size_t>(i) * 37 % 1400, seed + static_cast<std::uint64_t>(i));
        co_await client.send(msg);
        auto [got, from] = co_await server.recvfrom();
        if (got != msg) break;
        co_await server.sendto(got, from);
        auto [echo, from2] = co_await client.recvfrom();
        if (echo != msg) break;
        ++answered;
    }
    client.close();
    server.close();
    co_return answered;
}

class PipeFaults : public SysIoFaultTest, public ::testing::WithParamInterface<FaultClass> {};

TEST_P(PipeFaults, EveryByteArrivesOnceInOrder) {
    const int fds = open_fd_count();
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        FaultInjector faults(GetParam(), seed, 0.3);  // armed before the pipe's fds are registered
        bool same = run(wait_for(pipe_transfer(seed), kExchangeSeconds));
        EXPECT_TRUE(same) << faults.describe();
        EXPECT_GT(faults.injected(), 0u) << faults.describe();
    }
    EXPECT_EQ(open_fd_count(), fds) << "fds not back to baseline";
}

INSTANTIATE_TEST_SUITE_P(Classes, PipeFaults,
                         ::testing::Values(FaultClass::Eintr, FaultClass::ShortIo, FaultClass::EagainStorm),
                         [](const ::testing::TestParamInfo<FaultClass>& info) {
                             std::string name = to_string(info.param);
                             std::erase(name, '-');
                             return name;
                         });

class DatagramFaults : public SysIoFaultTest, public ::testing::WithParamInterface<FaultClass> {};

TEST_P(DatagramFaults, EveryDatagramArrivesOnce) {
    const int fds = open_fd_count();
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        FaultInjector faults(GetParam(), seed, 0.3);
        int answered = run(wait_for(udp_ping_pong(50, seed), kExchangeSeconds));
        EXPECT_EQ(answered, 50) << faults.describe();
        EXPECT_GT(faults.injected(), 0u) << faults.describe();
    }
    EXPECT_EQ(open_fd_count(), fds) << "fds not back to baseline";
}

INSTANTIATE_TEST_SUITE_P(Classes, DatagramFaults, ::testing::Values(FaultClass::Eintr, FaultClass::EagainStorm),
                         [](const ::testing::TestParamInfo<FaultClass>& info) {
                             std::string name = to_string(info.param);
                             std::erase(name, '-');
                             return name;
                         });

// ECONNREFUSED (a pending ICMP error) raises std::system_error from the call that meets it,
// names the errno, and costs no datagram: the next recvfrom gets the one that was queued.
TEST_F(SysIoFaultTest, DatagramConnRefusedRaisesOnceAndTheSocketKeepsWorking) {
    const int fds = open_fd_count();
    FaultInjector faults(FaultClass::DatagramRefused, 1, 0.0);
    run([](FaultInjector& f) -> Coro<> {
        const Address local{"127.0.0.1", 0};
        DatagramSocket server = co_await create_datagram_endpoint(local, std::nullopt);
        const Address server_address = server.get_extra_info("sockname");
        DatagramSocket client = co_await create_datagram_endpoint(std::nullopt, server_address);
        co_await client.send("queued");

        f.set_probability(1.0);
        int refused = 0;
        try {
            co_await server.recvfrom();
        } catch (const std::system_error& e) {
            if (e.code().value() == ECONNREFUSED) ++refused;
        }
        try {
            co_await client.send("never sent");
        } catch (const std::system_error& e) {
            if (e.code().value() == ECONNREFUSED) ++refused;
        }
        EXPECT_EQ(refused, 2);
        f.set_probability(0.0);

        auto [got, from] = co_await wait_for(server.recvfrom(), kExchangeSeconds);
        EXPECT_EQ(got, "queued");
        co_await client.send("after");
        auto [next, from2] = co_await wait_for(server.recvfrom(), kExchangeSeconds);
        EXPECT_EQ(next, "after");
        client.close();
        server.close();
    }(faults));
    EXPECT_EQ(faults.injected(), 2u);
    EXPECT_EQ(open_fd_count(), fds) << "fds not back to baseline";
}

}  // namespace
}  // namespace asyncio::testing
