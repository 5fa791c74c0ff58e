// Graceful Ctrl-C: a SIGINT handler sets a ThreadSafeFlag (async-signal-safe); the main task
// waits on it, then cancels the worker tasks, lets them clean up, and exits.
//
//   build/release/examples/ctrl_c             # press Ctrl-C to stop
//   build/release/examples/ctrl_c --self 1    # sends itself SIGINT after 1 s (for CI)
#include <asyncio/asyncio.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

asyncio::ThreadSafeFlag* g_interrupted = nullptr;

extern "C" void on_sigint(int) { g_interrupted->set(); }  // set() is async-signal-safe

asyncio::Coro<> worker(int id) {
    try {
        for (int n = 0;; ++n) {
            co_await asyncio::sleep_ms(200 + 100 * id);
            std::printf("worker %d: step %d\n", id, n);
        }
    } catch (const asyncio::CancelledError&) {
        std::printf("worker %d: cancelled, cleaning up\n", id);
        throw;
    }
}

asyncio::Coro<> send_sigint_after(int seconds) {
    co_await asyncio::sleep(seconds);
    std::printf("(sending SIGINT to myself)\n");
    kill(getpid(), SIGINT);
}

asyncio::Coro<int> main_task(int self_after) {
    asyncio::ThreadSafeFlag interrupted;
    g_interrupted = &interrupted;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);

    std::vector<asyncio::Task<>> workers;
    for (int id = 0; id < 3; ++id) workers.push_back(asyncio::create_task(worker(id)));
    if (self_after > 0) asyncio::create_task(send_sigint_after(self_after));
    std::printf("running; press Ctrl-C to stop\n");

    co_await interrupted.wait();
    std::printf("SIGINT received: shutting down\n");
    for (auto& w : workers) w.cancel();
    auto outcomes = co_await asyncio::gather(asyncio::return_exceptions, workers);
    int cancelled = 0;
    for (auto& o : outcomes) cancelled += o.index() == 1 ? 1 : 0;

    signal(SIGINT, SIG_DFL);
    g_interrupted = nullptr;
    std::printf("%d workers stopped cleanly\n", cancelled);
    co_return cancelled == 3 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    int self_after = 0;
    if (argc == 3 && std::strcmp(argv[1], "--self") == 0) {
        self_after = std::atoi(argv[2]);
    } else if (argc != 1) {
        std::fprintf(stderr, "usage: %s [--self SECONDS]\n", argv[0]);
        return 2;
    }
    return asyncio::run(main_task(self_after));
}
