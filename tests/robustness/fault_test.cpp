// Fault injection: an echo exchange (plain TCP and TLS) under every fault class of the
// system-call seam (src/io/sys.hpp, armed by tests/support/faults.hpp). For each class and a
// few seeds: nothing is lost or duplicated, nothing hangs (every conversation is bounded by
// wait_for), the server still serves a clean client after the faults stop, and the process
// holds as many fds as before.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asyncio/asyncio.hpp"
#include "robustness/echo.hpp"
#include "support/certs.hpp"
#include "support/faults.hpp"
#include "support/test_loop.hpp"

namespace asyncio::testing {
namespace {

// No conversation here takes more than a few ms unfaulted; this bound only catches hangs.
constexpr double kBoundSeconds = 20.0;

// How a fault class may end a conversation.
enum class Expect {
    Exact,        // the faults are transient: every byte comes back, exactly once
    PrefixOrError  // the connection may die: what came back is a prefix, or an error is raised
};

struct Case {
    FaultClass fault;
    double probability;
    Expect expect;
    bool tls;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << to_string(c.fault) << (c.tls ? " over TLS" : " over TCP") << ", p=" << c.probability;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
    std::string n = to_string(info.param.fault);
    for (char& c : n) {
        if (c == '-') c = '_';
    }
    return n + (info.param.tls ? "_tls" : "_tcp");
}

class FaultTest : public LoopTest, public ::testing::WithParamInterface<Case> {};

Coro<Echoed> bounded(Coro<Echoed> conversation) {
    try {
        Echoed e = co_await wait_for(std::move(conversation), kBoundSeconds);
        co_return e;
    } catch (const TimeoutError&) {
        ADD_FAILURE() << "conversation hung for " << kBoundSeconds << " s";
        co_return Echoed{};
    }
}

void check(const Case& c, const Echoed& e, const std::string& sent, const std::string& plan) {
    if (c.expect == Expect::Exact) {
        EXPECT_TRUE(e.ok) << plan << ": error '" << e.error << "', " << e.received.size() << " of " << sent.size()
                          << " bytes back";
        EXPECT_EQ(e.received.size(), sent.size()) << plan;
    } else {
        EXPECT_EQ(e.received, sent.substr(0, e.received.size())) << plan << ": bytes back are not a prefix";
        if (!e.ok) {
            EXPECT_TRUE(!e.error.empty() || e.received.size() < sent.size()) << plan << ": failed without a reason";
        }
    }
}

Coro<> exchange_under_faults(Case c, std::uint64_t seed) {
    EchoLog log;
    FaultInjector faults(c.fault, seed);  // tracks the server's socket from the start
    Server server = co_await start_echo_server(&log, c.tls);
    faults.set_probability(c.probability);
    // Sequential clients of growing size, then three at once.
    for (std::size_t size : {1u, 700u, 20'000u, 150'000u}) {
        std::string sent = payload(size, seed + size);
        Echoed e = co_await bounded(converse(server.port(), c.tls, sent, 9000));
        check(c, e, sent, faults.describe());
    }
    std::vector<Task<Echoed>> many;
    std::vector<std::string> sent;
    for (int i = 0; i < 3; ++i) {
        sent.push_back(payload(30'000 + 1000 * i, seed * 7 + i));
        many.push_back(create_task(bounded(converse(server.port(), c.tls, sent.back(), 3000))));
    }
    for (int i = 0; i < 3; ++i) {
        Echoed e = co_await many[i];
        check(c, e, sent[i], faults.describe());
    }
    EXPECT_GT(faults.injected(), 0u) << faults.describe() << ": the plan injected nothing";

    // The faults stop: the server must still serve, exactly.
    faults.set_probability(0);
    std::string last = payload(50'000, seed + 99);
    Echoed e = co_await bounded(converse(server.port(), c.tls, last, 9000));
    EXPECT_TRUE(e.ok) << faults.describe() << ": the server stopped serving: " << e.error;

    server.close();
    co_await server.wait_closed();
    EXPECT_TRUE(co_await wait_quiet(&log)) << faults.describe() << ": connection handlers still running";
}

TEST_P(FaultTest, EchoExchangeSurvives) {
    const Case& c = GetParam();
    if (c.tls) (void)test_certs();  // made before the fd baseline
    int fds = open_fd_count();
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        run(exchange_under_faults(c, seed));
        run(settle());
        EXPECT_EQ(open_fd_count(), fds) << to_string(c.fault) << " seed " << seed << ": fds not back to baseline";
    }
}

INSTANTIATE_TEST_SUITE_P(
    Classes, FaultTest,
    ::testing::Values(Case{FaultClass::Eintr, 0.3, Expect::Exact, false}, Case{FaultClass::Eintr, 0.3, Expect::Exact, true},
                      Case{FaultClass::ShortIo, 0.5, Expect::Exact, false},
                      Case{FaultClass::ShortIo, 0.5, Expect::Exact, true},
                      Case{FaultClass::EagainStorm, 0.5, Expect::Exact, false},
                      Case{FaultClass::EagainStorm, 0.5, Expect::Exact, true},
                      Case{FaultClass::ConnReset, 0.02, Expect::PrefixOrError, false},
                      Case{FaultClass::ConnReset, 0.02, Expect::PrefixOrError, true},
                      Case{FaultClass::AcceptErrors, 0.5, Expect::Exact, false},
                      Case{FaultClass::AcceptErrors, 0.5, Expect::Exact, true},
                      // A failed registration drops that connection (either side) and nothing else.
                      Case{FaultClass::EpollCtlFail, 0.3, Expect::PrefixOrError, false},
                      Case{FaultClass::EpollCtlFail, 0.3, Expect::PrefixOrError, true}),
    case_name);

// --- faults that make a connection attempt fail: a clean error, no leak, later ones work ------

Coro<> failing_connects(FaultClass fault, bool tls, std::string host) {
    EchoLog log;
    FaultInjector faults(fault, 5);
    Server server = co_await start_echo_server(&log, tls);
    faults.set_probability(1.0);
    for (int i = 0; i < 3; ++i) {
        Echoed e = co_await bounded(converse(server.port(), tls, "hello\n", 16, host));
        EXPECT_FALSE(e.ok) << faults.describe();
        EXPECT_FALSE(e.error.empty()) << faults.describe() << ": no error raised";
    }
    faults.set_probability(0);
    Echoed e = co_await bounded(converse(server.port(), tls, payload(10'000, 3), 1000, host));
    EXPECT_TRUE(e.ok) << faults.describe() << ": " << e.error;
    server.close();
    co_await server.wait_closed();
    EXPECT_TRUE(co_await wait_quiet(&log));
}

class ConnectFaultTest : public LoopTest {};

TEST_F(ConnectFaultTest, ResolveFailureRaisesAndLeaksNothing) {
    int fds = open_fd_count();
    run(failing_connects(FaultClass::ResolveFail, false, "127.0.0.1"));
    run(settle());
    EXPECT_EQ(open_fd_count(), fds);
}

TEST_F(ConnectFaultTest, SocketAndConnectFailuresRaiseAndLeakNothing) {
    (void)test_certs();
    int fds = open_fd_count();
    run(failing_connects(FaultClass::ConnectFail, false, "127.0.0.1"));
    run(failing_connects(FaultClass::ConnectFail, true, "127.0.0.1"));
    run(settle());
    EXPECT_EQ(open_fd_count(), fds);
}

}  // namespace
}  // namespace asyncio::testing
