/// @file
/// run_on_threads: a loop per core, made easy.
///
///       asyncio::run_on_threads(4, [](std::size_t index) -> asyncio::Coro<> {
///           asyncio::ServerOptions options{.reuse_port = true};
///           asyncio::Server server = co_await asyncio::start_server(handle, "0.0.0.0", 8888, options);
///           co_await server.wait_closed();
///       });
///
/// Starts `n` threads; thread `index` (0 .. n-1) runs its own loop with
/// asyncio::run(main(index)). The calling thread blocks until every thread has finished. The loops
/// share nothing: hand work from one to another with Loop::call_soon_threadsafe or
/// run_coroutine_threadsafe. With `start_server(..., ServerOptions{.reuse_port = true})` each loop
/// listens on the same port and the kernel spreads incoming connections between them.
///
/// Exceptions: a main that throws ends only its own thread (its locals, a Server among them, are
/// destroyed, so its listening socket closes and the other loops keep serving). The others are
/// not cancelled; once all have finished, run_on_threads rethrows the exception that was thrown
/// first (by time). To stop the others on failure, catch inside main and tell them (e.g. through
/// call_soon_threadsafe on their loops).
#pragma once

#include <cstddef>
#include <functional>

#include "asyncio/coro.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

/// What each thread of run_on_threads runs: its index in, its main coroutine out.
using ThreadMain = std::function<Coro<>(std::size_t index)>;

/// Runs main(0) .. main(n-1), each on its own new thread with its own loop, and joins them all;
/// `main` is called from all the threads at once, so it must not mutate shared state unguarded;
/// then rethrows the first exception a main threw (or main itself threw creating its coroutine).
/// std::invalid_argument for n == 0 or an empty main; std::system_error if a thread cannot be
/// started (the threads already started are joined first).
ASYNCIO_API void run_on_threads(std::size_t n, ThreadMain main);

}  // namespace asyncio
