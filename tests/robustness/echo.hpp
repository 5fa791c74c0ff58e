// Shared by the robustness tests: an echo server that survives anything a connection does, and
// a client conversation that reports exactly what came back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "asyncio/asyncio.hpp"

namespace asyncio::testing {

/// Connection handlers alive and finished, for waiting until the server side is quiet.
struct EchoLog {
    int active = 0;
    int finished = 0;
    Event changed;  // set whenever a handler finishes
};

/// Echoes every byte until end of stream or an error, then closes. Never throws.
Coro<> echo_connection(Stream reader, Stream writer, EchoLog* log);

/// Plain TCP when `tls` is false; a TLS server with the test certificates otherwise.
Coro<Server> start_echo_server(EchoLog* log, bool tls);

/// Waits (at most 5 s) until no handler is active; false if some still are.
Coro<bool> wait_quiet(EchoLog* log);

/// Deterministic payload of `size` bytes for `seed`.
std::string payload(std::size_t size, std::uint64_t seed);

/// How a conversation ended.
struct Echoed {
    bool ok = false;       // everything sent came back, and the stream closed cleanly
    std::string received;  // the bytes that came back, in order
    std::string error;     // the exception's what(), if any
};

/// Connects (to 127.0.0.1 unless `host` is given), sends `data` in chunks of 1..chunk_max
/// bytes (draining after each) while reading the echo, then closes. Errors are caught into the
/// result.
Coro<Echoed> converse(std::uint16_t port, bool tls, std::string data, std::size_t chunk_max,
                      std::string host = "127.0.0.1");

}  // namespace asyncio::testing
