// The library's exception types (the seed's asyncio.CancelledError, asyncio.TimeoutError, ...).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

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

/// Raised by Stream::readline when a line is longer than the stream's limit (set_limit). The
/// bytes stay buffered; consumed() is how many of them readline looked at (CPython's
/// `consumed`), so `co_await stream.readexactly(e.consumed())` takes them.
class LimitOverrunError : public std::runtime_error {
public:
    LimitOverrunError(const std::string& message, std::size_t consumed)
        : std::runtime_error(message), consumed_(consumed) {}
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }

private:
    std::size_t consumed_;
};

}  // namespace asyncio
