// The library's exception types (the seed's asyncio.CancelledError, asyncio.TimeoutError, ...).
#pragma once

#include <stdexcept>

namespace asyncio {

/// Thrown into a task at its current co_await by Task::cancel().
///
/// Like Python's CancelledError (a BaseException), it deliberately does NOT derive from
/// std::exception, so `catch (const std::exception&)` does not swallow cancellation. Catch it
/// by name, or with `catch (...)` and rethrow.
class CancelledError final {
public:
    [[nodiscard]] const char* what() const noexcept { return "CancelledError"; }
};

/// Misuse of the library, with MicroPython's message where it has one
/// ("can't cancel self", "no running event loop", ...).
class RuntimeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Raised by wait_for / wait_for_ms when the timeout expires.
class TimeoutError : public std::runtime_error {
public:
    TimeoutError() : std::runtime_error("TimeoutError") {}
};

/// Raised by Stream::readexactly when the stream ends first.
class EOFError : public std::runtime_error {
public:
    EOFError() : std::runtime_error("EOFError") {}
};

}  // namespace asyncio
