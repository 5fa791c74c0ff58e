// Port of micropython tests/net_hosted/asyncio_start_server.py
// Checks: a second server on the same address fails with std::system_error (Python's OSError,
// EADDRINUSE); `async with server` (close() + wait_closed()) frees the address, also when its
// body raises; close() + wait_closed() does not raise CancelledError; a task cancelled while it
// starts a server or waits for it to close ends with CancelledError, whatever the number of
// scheduling rounds it had before the cancel.
// Upstream binds 0.0.0.0:8000; here the first server binds 127.0.0.1 port 0 and every later
// server reuses that port, which shows each one was freed.
#include <asyncio/asyncio.hpp>

#include <cerrno>
#include <exception>
#include <string>
#include <system_error>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_start_server_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioStartServer = asyncio::testing::LoopTest;

namespace {

// Upstream passes None as the callback; no client connects in this test.
Coro<> no_connection(Stream, Stream) {
    ADD_FAILURE() << "no client connects in this test";
    co_return;
}

Coro<> task(int n, std::uint16_t port, Trace* trace) {
    (*trace)("create task server " + std::to_string(n));
    Server srv = co_await start_server(no_connection, "127.0.0.1", port);
    co_await srv.wait_closed();
    // This should be unreachable.
    (*trace)("task finished");
}

Coro<> test(Trace* trace) {
    // Test creating 2 servers using the same address
    (*trace)("create server1");
    Server server1 = co_await start_server(no_connection, "127.0.0.1", 0);
    const std::uint16_t port = server1.port();
    try {
        (*trace)("create server2");
        Server server2 = co_await start_server(no_connection, "127.0.0.1", port);
    } catch (const std::system_error& er) {
        (*trace)("OSError");
        EXPECT_EQ(er.code().value(), EADDRINUSE);
    }

    // Wait for server to close.
    {  // async with server1:
        (*trace)("sleep");
        co_await sleep(0);
    }
    server1.close();
    co_await server1.wait_closed();

    // Test that cancellation works before the server starts if
    // the subsequent code raises.
    (*trace)("create server3");
    Server server3 = co_await start_server(no_connection, "127.0.0.1", port);
    {
        // async with server3: raise OSError -- the exit (close + wait_closed) runs before the
        // exception reaches the handler. C++ cannot co_await in a catch block, so the
        // exception is held while the exit runs.
        std::exception_ptr raised;
        try {
            throw std::system_error(EIO, std::generic_category(), "raised inside async with");
        } catch (...) {
            raised = std::current_exception();
        }
        server3.close();
        co_await server3.wait_closed();
        try {
            std::rethrow_exception(raised);
        } catch (const std::system_error&) {
            (*trace)("OSError");
        }
    }

    // Test that closing doesn't raise CancelledError.
    (*trace)("create server4");
    Server server4 = co_await start_server(no_connection, "127.0.0.1", port);
    server4.close();
    co_await server4.wait_closed();
    (*trace)("server4 closed");

    // Test that cancelling the task will still raise CancelledError, checking
    // edge cases around how many times the tasks have been re-scheduled by
    // sleep.
    // Asserts MicroPython's output. Observed with this library (not a row of
    // docs/differences.md): for num_sleep 2, 3 and 4 the task is blocked in srv.wait_closed(),
    // which awaits the server's accept task, so cancel() is forwarded to the accept task
    // (SEMANTICS.md 4.1). The accept task ends with CancelledError and Server::wait_closed()
    // swallows it unconditionally, so the task goes on ("task finished") and ends normally:
    // no "CancelledError" line. MicroPython's accept task re-raises CancelledError unless
    // close() was called (SEMANTICS.md 10.3), so wait_closed() raises it in the task.
    for (int num_sleep = 0; num_sleep < 5; ++num_sleep) {
        (*trace)("sleep " + std::to_string(num_sleep));
        Task<> t = create_task(task(num_sleep, port, trace));
        for (int i = 0; i < num_sleep; ++i) co_await sleep(0);
        t.cancel();
        try {
            co_await t;
        } catch (const CancelledError&) {
            (*trace)("CancelledError");
        }
    }

    (*trace)("done");
}

}  // namespace

TEST_F(AsyncioStartServer, ServersFreeTheirAddressOnCloseAndACancelledStartRaisesCancelledError) {
    Trace trace;
    run(test(&trace));

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "create server1",
                               "create server2",
                               "OSError",
                               "sleep",
                               "create server3",
                               "OSError",
                               "create server4",
                               "server4 closed",
                               "sleep 0",
                               "CancelledError",
                               "sleep 1",
                               "create task server 1",
                               "CancelledError",
                               "sleep 2",
                               "create task server 2",
                               "CancelledError",
                               "sleep 3",
                               "create task server 3",
                               "CancelledError",
                               "sleep 4",
                               "create task server 4",
                               "CancelledError",
                               "done",
                           }));
}

}  // namespace asyncio_start_server_test
