// UDP over real loopback sockets: create_datagram_endpoint and DatagramSocket (CPython's
// datagram endpoint behaviour, IPv4 and IPv6), errors, close, and every fd given back.
#include <asyncio/asyncio.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::testing::open_fd_count;
using asyncio::testing::FdCount;
using DatagramTest = asyncio::testing::LoopTest;

namespace {

// Answers `count` datagrams with their text reversed, so a test sees the
// reply really came from this server and not its own datagram.
Coro<> reverse_server(DatagramSocket s, int count) {
    for (int i = 0; i < count; ++i) {
        auto [data, from] = co_await s.recvfrom();
        std::string reply(data.rbegin(), data.rend());
        co_await s.sendto(reply, from);
    }
}

// A socket bound to an ephemeral port of `host` (connected to `remote` if given). The Address is
// named before co_await: g++ 12 destroys a braced temporary in a co_await expression twice.
Coro<DatagramSocket> bind_udp(std::string host, std::optional<Address> remote = std::nullopt) {
    const Address local{host, 0};
    co_return co_await create_datagram_endpoint(local, remote);
}

Coro<> round_trip_over(std::string host) {
    DatagramSocket server = co_await bind_udp(host);
    Address where = server.get_extra_info("sockname");
    EXPECT_EQ(where.host, host);
    EXPECT_NE(where.port, 0);
    Task<> t = create_task(reverse_server(server, 2));
    // Unconnected client: sendto + recvfrom.
    DatagramSocket client = co_await bind_udp(host);
    co_await client.sendto("hello", where);
    auto [data, from] = co_await client.recvfrom();
    EXPECT_EQ(data, "olleh");
    EXPECT_EQ(from, where);
    // Connected client: send + recvfrom.
    DatagramSocket connected = co_await create_datagram_endpoint(std::nullopt, where);
    EXPECT_EQ(connected.get_extra_info("peername"), where);
    co_await connected.send("abc");
    auto [data2, from2] = co_await connected.recvfrom();
    EXPECT_EQ(data2, "cba");
    EXPECT_EQ(from2, where);
    co_await t;
    client.close();
    connected.close();
    server.close();
}

}  // namespace

TEST_F(DatagramTest, EchoOverIPv4) {
    FdCount fds;
    run(round_trip_over("127.0.0.1"));
}

TEST_F(DatagramTest, EchoOverIPv6) {
    FdCount fds;
    run(round_trip_over("::1"));
}

TEST_F(DatagramTest, DatagramsKeepTheirBoundariesAndEmptyOnesArrive) {
    FdCount fds;
    auto main = []() -> Coro<> {
        DatagramSocket a = co_await bind_udp("127.0.0.1");
        DatagramSocket b = co_await bind_udp("127.0.0.1", a.get_extra_info("sockname"));
        co_await b.send("first");
        co_await b.send("");
        co_await b.send("third");
        EXPECT_EQ((co_await a.recvfrom()).first, "first");
        EXPECT_EQ((co_await a.recvfrom()).first, "");
        EXPECT_EQ((co_await a.recvfrom()).first, "third");
        a.close();
        b.close();
    };
    run(main());
}

TEST_F(DatagramTest, ALargeDatagramArrivesWhole) {
    FdCount fds;
    auto main = []() -> Coro<> {
        DatagramSocket a = co_await bind_udp("127.0.0.1");
        DatagramSocket b = co_await bind_udp("127.0.0.1");
        const std::string big(65507, 'x');  // the largest UDP payload over IPv4
        co_await b.sendto(big, a.get_extra_info("sockname"));
        auto [data, from] = co_await a.recvfrom();
        EXPECT_EQ(data.size(), big.size());
        EXPECT_EQ(from, b.get_extra_info("sockname"));
        a.close();
        b.close();
    };
    run(main());
}

TEST_F(DatagramTest, ADatagramTooLargeToSendRaisesEmsgsize) {
    FdCount fds;
    auto main = []() -> Coro<> {
        DatagramSocket a = co_await bind_udp("127.0.0.1");
        try {
            co_await a.sendto(std::string(70'000, 'x'), a.get_extra_info("sockname"));
            ADD_FAILURE() << "a datagram over 64 KiB cannot be sent";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EMSGSIZE) << e.what();
        }
        a.close();
    };
    run(main());
}

TEST_F(DatagramTest, RecvfromWaitsForADatagramSentLater) {
    FdCount fds;
    auto main = []() -> Coro<> {
        DatagramSocket a = co_await bind_udp("127.0.0.1");
        std::vector<std::string> order;
        auto sender = [](Address to, std::vector<std::string>* order) -> Coro<> {
            DatagramSocket b = co_await create_datagram_endpoint(std::nullopt, to);
            order->push_back("send");
            co_await b.send("late");
            b.close();
        };
        Task<> t = create_task(sender(a.get_extra_info("sockname"), &order));
        auto [data, from] = co_await a.recvfrom();
        order.push_back("received " + data);
        co_await t;
        EXPECT_EQ(order, (std::vector<std::string>{"send", "received late"}));
        a.close();
    };
    run(main());
}

TEST_F(DatagramTest, AnIcmpErrorOnAConnectedSocketRaisesOnTheNextCall) {
    FdCount fds;
    auto main = []() -> Coro<> {
        // A port nobody listens on: bind one, note it, close it.
        DatagramSocket gone = co_await bind_udp("127.0.0.1");
        Address nobody = gone.get_extra_info("sockname");
        gone.close();
        DatagramSocket s = co_await create_datagram_endpoint(std::nullopt, nobody);
        co_await s.send("anyone?");  // the kernel answers with ICMP port unreachable
        try {
            (void)co_await s.recvfrom();  // woken by the error, never hangs
            ADD_FAILURE() << "the ICMP error should surface";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), ECONNREFUSED) << e.what();
        }
        s.close();
    };
    run(main());
}

TEST_F(DatagramTest, CloseWakesAWaitingRecvfromWithRuntimeError) {
    FdCount fds;
    auto main = []() -> Coro<> {
        DatagramSocket a = co_await bind_udp("127.0.0.1");
        auto waiter = [](DatagramSocket a) -> Coro<std::string> {
            try {
                (void)co_await a.recvfrom();
            } catch (const RuntimeError& e) {
                co_return e.what();
            }
            co_return "no error";
        };
        Task<std::string> t = create_task(waiter(a));
        co_await sleep(0);
        co_await sleep(0);
        a.close();
        a.close();  // harmless
        EXPECT_EQ(co_await t, "DatagramSocket is closed");
        EXPECT_TRUE(a.is_closing());
        bool raised = false;
        try {
            const Address discard{"127.0.0.1", 9};
            co_await a.sendto("x", discard);
        } catch (const RuntimeError&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
    };
    run(main());
}

TEST_F(DatagramTest, MisuseRaisesClearErrors) {
    FdCount fds;
    auto main = []() -> Coro<> {
        bool refused = false;
        try {
            (void)co_await create_datagram_endpoint(std::nullopt, std::nullopt);
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        DatagramSocket a = co_await bind_udp("127.0.0.1");
        EXPECT_THROW((void)a.get_extra_info("peername"), std::invalid_argument);
        EXPECT_THROW((void)a.get_extra_info("nonsense"), std::invalid_argument);
        EXPECT_THROW((void)a.send("x"), std::invalid_argument);  // not connected
        DatagramSocket c = co_await create_datagram_endpoint(std::nullopt, a.get_extra_info("sockname"));
        refused = false;
        try {
            const Address other{"127.0.0.1", 1};
            co_await c.sendto("x", other);  // not the connected remote
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        refused = false;
        try {  // an IPv4 socket cannot reach an IPv6 address
            const Address six{"::1", 9};
            co_await a.sendto("x", six);
        } catch (const std::system_error& e) {
            refused = e.code().value() == EAFNOSUPPORT;
        }
        EXPECT_TRUE(refused);
        refused = false;
        try {  // mixed families
            const Address local6{"::1", 0};
            const Address remote4{"127.0.0.1", 9};
            (void)co_await create_datagram_endpoint(local6, remote4);
        } catch (const std::invalid_argument&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        DatagramSocket empty;
        EXPECT_THROW((void)empty.recvfrom(), RuntimeError);
        a.close();
        c.close();
    };
    run(main());
}

TEST_F(DatagramTest, BindingAPortInUseRaisesEaddrinuse) {
    FdCount fds;
    auto main = []() -> Coro<> {
        DatagramSocket a = co_await bind_udp("127.0.0.1");
        try {
            (void)co_await create_datagram_endpoint(a.get_extra_info("sockname"), std::nullopt);
            ADD_FAILURE() << "the port is taken";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EADDRINUSE) << e.what();
        }
        a.close();
    };
    run(main());
}

TEST_F(DatagramTest, DroppingTheLastHandleClosesTheSocket) {
    FdCount fds;
    auto main = []() -> Coro<> {
        { DatagramSocket a = co_await bind_udp("127.0.0.1"); }
    };
    run(main());
}
