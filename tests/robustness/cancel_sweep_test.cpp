// Cancellation sweep: a whole client/server conversation (plain TCP and TLS) is cancelled after
// k scheduler steps, for k = 0, 1, 2, ... until it completes before the cancellation comes. A
// step is one resumption of a canceller task that yields (sleep(0)) each time; the yields take
// turns with the conversation's own steps in the loop's FIFO, so every point where the
// conversation is suspended (connect, handshake, write, drain, read, close) is hit by some k.
// Once the conversation is blocked on I/O, the loop polls for I/O only every 128 steps: the
// steps after the first kWindow of each poll round change nothing and are not counted (the
// seam's PollCounter tells the rounds apart). Each time: the cancelled side ends at once, the
// peer sees a clean close or a reset (never a hang: everything is bounded), and at the end fds
// and tasks are back to baseline (the asan stages add ASan/LSan over the same sweep).
#include <gtest/gtest.h>

#include <string>

#include "asyncio/asyncio.hpp"
#include "robustness/echo.hpp"
#include "support/certs.hpp"
#include "support/faults.hpp"
#include "support/test_loop.hpp"

namespace asyncio::testing {
namespace {

constexpr int kMaxSteps = 5000;  // a conversation takes far fewer rounds; this only stops a runaway sweep
constexpr double kPeerBoundSeconds = 10.0;
// Steps counted after each poll for I/O: more than the conversation and the server's handler
// take between two polls (a wake-up runs each until it waits on I/O again).
constexpr int kWindow = 48;

Coro<std::pair<Stream, Stream>> connect_to(std::uint16_t port, bool tls) {
    if (!tls) {
        std::pair<Stream, Stream> conn = co_await open_connection("127.0.0.1", port);
        co_return conn;
    }
    std::pair<Stream, Stream> conn = co_await open_connection("127.0.0.1", port, test_client_context(), "127.0.0.1");
    co_return conn;
}

// The conversation: three lines and a 16 KiB block echoed, then a clean close. Raises on any
// difference; catches nothing (a cancellation goes straight through).
Coro<> conversation(std::uint16_t port, bool tls) {
    std::pair<Stream, Stream> conn = co_await connect_to(port, tls);
    for (int i = 0; i < 3; ++i) {
        std::string line = "line " + std::to_string(i) + "\n";
        conn.second.write(line);
        co_await conn.second.drain();
        std::string back = co_await conn.first.readline();
        if (back != line) throw std::runtime_error("echo mismatch: '" + back + "'");
    }
    std::string block = payload(16384, 11);
    conn.second.write(block);
    co_await conn.second.drain();
    std::string back = co_await conn.first.readexactly(block.size());
    if (back != block) throw std::runtime_error("block mismatch");
    conn.second.close();
    co_await conn.second.wait_closed();
}

// The server side, whose current task the sweep may cancel.
struct Side {
    PollCounter* polls = nullptr;
    EchoLog log;
    Task<> handler;  // the latest connection's handler
};

Coro<> tracked_echo(Stream r, Stream w, Side* side) {
    side->handler = current_task();
    co_await echo_connection(std::move(r), std::move(w), &side->log);
}

Coro<Server> start_tracked_server(Side* side, bool tls) {
    ConnectionCallback cb = [side](Stream r, Stream w) { return tracked_echo(std::move(r), std::move(w), side); };
    if (!tls) {
        Server server = co_await start_server(std::move(cb), "127.0.0.1", 0, 16);
        co_return server;
    }
    Server server = co_await start_server(std::move(cb), "127.0.0.1", 0, 16, test_server_context());
    co_return server;
}

enum class Victim { Client, Server };

struct SweepResult {
    int steps = -1;         // the k at which the conversation first completed
    int cancelled = 0;      // runs that were cancelled mid-way
    int peer_errors = 0;    // runs where the peer saw a reset rather than a clean close
};

// One run: starts the conversation, lets it run k steps, cancels the victim. Returns true if
// the conversation completed before step k.
Coro<bool> run_once(Server* server, Side* side, bool tls, Victim victim, int k, SweepResult* result) {
    side->handler = Task<>{};
    Task<> client = create_task(conversation(server->port(), tls));
    std::uint64_t round = side->polls->polls();
    int in_round = 0;
    for (int counted = 0; counted < k && !client.done();) {
        co_await sleep(0);
        if (side->polls->polls() != round) {
            round = side->polls->polls();
            in_round = 0;
        }
        if (in_round < kWindow) {
            ++in_round;
            ++counted;
        }
    }
    bool completed = client.done();
    if (!completed) {
        if (victim == Victim::Client) {
            client.cancel();
            ++result->cancelled;
        } else if (side->handler && !side->handler.done()) {
            side->handler.cancel();  // before the server accepted, there is nothing to cancel yet
            ++result->cancelled;
        }
    }
    // Drop our handle: a task's frame, and so its by-value parameters (the handler's Streams),
    // lives until its last handle goes, and the client would wait on a socket we keep open.
    side->handler = Task<>{};
    // The client ends: cancelled, completed, or (its server side cancelled) with an error.
    // Never hangs.
    try {
        co_await wait_for(client, kPeerBoundSeconds);
    } catch (const CancelledError&) {
        EXPECT_EQ(victim, Victim::Client) << "k=" << k << ": the client was cancelled but not by the sweep";
    } catch (const TimeoutError&) {
        ADD_FAILURE() << "k=" << k << ": the client hung after its server side was cancelled";
    } catch (const std::exception& e) {
        if (victim == Victim::Client) ADD_FAILURE() << "k=" << k << ": the client failed: " << e.what();
        ++result->peer_errors;
    }
    // The server side ends too (it saw the client's close or reset, or was cancelled).
    bool quiet = co_await wait_quiet(&side->log);
    EXPECT_TRUE(quiet) << "k=" << k << ": the server's handler hung";
    co_return completed;
}

Coro<SweepResult> sweep(bool tls, Victim victim) {
    PollCounter polls;
    Side side;
    side.polls = &polls;
    Server server = co_await start_tracked_server(&side, tls);
    SweepResult result;
    for (int k = 0; k < kMaxSteps; ++k) {
        if (co_await run_once(&server, &side, tls, victim, k, &result)) {
            result.steps = k;
            break;
        }
    }
    side.handler = Task<>{};
    server.close();
    co_await server.wait_closed();
    co_return result;
}

struct Params {
    bool tls;
    Victim victim;
};

void PrintTo(const Params& p, std::ostream* os) {
    *os << (p.tls ? "TLS" : "TCP") << ", cancel the " << (p.victim == Victim::Client ? "client" : "server side");
}

class CancelSweepTest : public LoopTest, public ::testing::WithParamInterface<Params> {};

TEST_P(CancelSweepTest, EveryStepCancelsCleanly) {
    const Params p = GetParam();
    if (p.tls) (void)test_certs();
    int fds = open_fd_count();
    SweepResult r = run(sweep(p.tls, p.victim));
    run(settle());
    EXPECT_GT(r.steps, 0) << "the conversation never completed within " << kMaxSteps << " steps";
    EXPECT_GT(r.cancelled, 3) << "the sweep cancelled too few runs to mean anything";
    EXPECT_EQ(open_fd_count(), fds) << "fds not back to baseline";
    std::printf("sweep: %s, cancel the %s: completes at step %d, %d runs cancelled, %d saw a reset/close\n",
                p.tls ? "TLS" : "TCP", p.victim == Victim::Client ? "client" : "server side", r.steps, r.cancelled,
                r.peer_errors);
}

INSTANTIATE_TEST_SUITE_P(Conversations, CancelSweepTest,
                         ::testing::Values(Params{false, Victim::Client}, Params{true, Victim::Client},
                                           Params{false, Victim::Server}, Params{true, Victim::Server}),
                         [](const ::testing::TestParamInfo<Params>& info) {
                             return std::string(info.param.tls ? "Tls" : "Tcp") +
                                    (info.param.victim == Victim::Client ? "CancelClient" : "CancelServerSide");
                         });

}  // namespace
}  // namespace asyncio::testing
