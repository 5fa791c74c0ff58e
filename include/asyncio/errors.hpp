/// @file
/// The library's exception types (the seed's asyncio.CancelledError, asyncio.TimeoutError, ...).
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/export.hpp"

namespace asyncio {

/// Thrown into a task at its current co_await by Task::cancel().
///
/// Like Python's CancelledError (a BaseException), it deliberately does NOT derive from
/// std::exception, so `catch (const std::exception&)` does not swallow cancellation. Catch it
/// by name, or with `catch (...)` and rethrow.
class ASYNCIO_API CancelledError final {
public:
    /// "CancelledError" (CancelledError is not a std::exception; this is for messages).
    [[nodiscard]] const char* what() const noexcept { return "CancelledError"; }
};

/// Misuse of the library, with MicroPython's message where it has one
/// ("can't cancel self", "no running event loop", ...).
class ASYNCIO_API RuntimeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Raised by wait_for / wait_for_ms when the timeout expires.
class ASYNCIO_API TimeoutError : public std::runtime_error {
public:
    TimeoutError() : std::runtime_error("TimeoutError") {}
};

/// Asking a task for its outcome before it has one: Task::result() and Task::exception()
/// of a task that has not finished (CPython's asyncio.InvalidStateError).
class ASYNCIO_API InvalidStateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Raised by Stream::readexactly when the stream ends first.
class ASYNCIO_API EOFError : public std::runtime_error {
public:
    EOFError() : std::runtime_error("EOFError") {}
};

/// Raised by Stream::readline when a line is longer than the stream's limit (set_limit). The
/// bytes stay buffered; consumed() is how many of them readline looked at (CPython's
/// `consumed`), so `co_await stream.readexactly(e.consumed())` takes them.
class ASYNCIO_API LimitOverrunError : public std::runtime_error {
public:
    /// `consumed`: how many bytes were buffered when the limit was hit.
    LimitOverrunError(const std::string& message, std::size_t consumed)
        : std::runtime_error(message), consumed_(consumed) {}
    /// The bytes buffered when the limit was hit; they stay in the stream.
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }

private:
    std::size_t consumed_;
};

/// Several failures at once (CPython's ExceptionGroup), raised by task_group: the children's
/// failures in the order they happened, then the body's own. exceptions() gives them all;
/// rethrow one with std::rethrow_exception to inspect it.
class ASYNCIO_API ExceptionGroup : public std::exception {
public:
    /// `exceptions`: the failures, in the order they happened.
    ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
        : message_(std::move(message)), exceptions_(std::move(exceptions)) {
        message_ += " (" + std::to_string(exceptions_.size()) +
                    (exceptions_.size() == 1 ? " sub-exception)" : " sub-exceptions)");
    }
    /// e.g. "unhandled errors in a TaskGroup (2 sub-exceptions)", as Python prints it.
    [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }
    /// The failures, in the order they happened.
    [[nodiscard]] const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

private:
    std::string message_;
    std::vector<std::exception_ptr> exceptions_;
};

/// Queue::put_nowait on a full queue (CPython's asyncio.QueueFull).
class ASYNCIO_API QueueFull : public std::runtime_error {
public:
    QueueFull() : std::runtime_error("QueueFull") {}
};

/// Queue::get_nowait on an empty queue (CPython's asyncio.QueueEmpty).
class ASYNCIO_API QueueEmpty : public std::runtime_error {
public:
    QueueEmpty() : std::runtime_error("QueueEmpty") {}
};

/// Putting into a queue after shutdown(), or getting from one shut down and empty
/// (CPython's asyncio.QueueShutDown, 3.13).
class ASYNCIO_API QueueShutDown : public std::runtime_error {
public:
    QueueShutDown() : std::runtime_error("QueueShutDown") {}
};

}  // namespace asyncio
