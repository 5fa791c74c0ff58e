/// @file
/// Subprocesses (CPython's asyncio.create_subprocess_exec / create_subprocess_shell).
///
///      std::vector<std::string> args{"-r"};
///      asyncio::ProcessOptions opts{.in = asyncio::PIPE, .out = asyncio::PIPE};
///      asyncio::Process p = co_await asyncio::create_subprocess_exec("sort", args, opts);
///      auto [out, err] = co_await p.communicate("a\nb\n");   // out == "b\na\n" (sort -r)
///      int status = *p.returncode();                          // 0; -9 if killed by SIGKILL
///
/// Name the options and the argument vector before the co_await (g++ 12 destroys braced
/// temporaries inside a co_await expression twice; see docs/pitfalls.md).
///
/// How it works:
/// - The child is started with posix_spawn (glibc: clone(CLONE_VM | CLONE_VFORK) + exec), so a
///      program that cannot start (ENOENT, EACCES, a bad cwd) is reported by create_subprocess_* as
///      std::system_error, never as an exit code. The child inherits only fds 0, 1 and 2 (every
///      other fd is closed in the child, whatever its close-on-exec flag), its signal mask is
///      emptied and SIGPIPE / SIGXFSZ get their default action back (as CPython's restore_signals).
/// - Child exit is learned through a pidfd (pidfd_open, Linux >= 5.3) watched by the loop's
///      poller: no polling, no SIGCHLD handler, no other code's children touched. On a kernel
///      without pidfd_open (ENOSYS), a short helper thread per child waits for the exit with
///      waitid(WNOWAIT) and signals the loop through a pipe; the loop still reaps.
/// - The loop reaps the child as soon as it exits, whether or not anyone waits and whether or not
///      a Process handle still exists, so no zombie is left. A child still running when its loop is
///      closed (Loop::close(), new_event_loop(), the thread's end) is killed with SIGKILL and reaped
///      then, as CPython's subprocess transport does when closed.
/// - Pipes are Streams (the same as open_fd's): write()+drain() to `in`, read*/readline from
///      `out`/`err`. A child that has gone away makes drain() raise std::system_error(EPIPE), never
///      SIGPIPE.
///
/// wait() returns when the child has exited; with `out`/`err` piped and not read, a child that
/// writes more than a pipe holds (64 KiB) never exits: use communicate(), which reads both while
/// it feeds stdin (the same advice as CPython's).
///
/// Loop thread only: a Process belongs to the loop of the thread that created it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/export.hpp"
#include "asyncio/stream.hpp"

namespace asyncio {

/// Where a child's stdin, stdout or stderr goes.
enum class Redirect : std::uint8_t {
    INHERIT,  ///< the parent's own fd (the default)
    PIPE,     ///< a new pipe: Process::in / out / err
    STDOUT,   ///< stderr only: the same place as stdout
    DEVNULL,  ///< /dev/null
};
inline constexpr Redirect INHERIT = Redirect::INHERIT;  ///< asyncio::INHERIT, as CPython's None
inline constexpr Redirect PIPE = Redirect::PIPE;        ///< asyncio::PIPE
inline constexpr Redirect STDOUT = Redirect::STDOUT;    ///< asyncio::STDOUT (for `err`)
inline constexpr Redirect DEVNULL = Redirect::DEVNULL;  ///< asyncio::DEVNULL

/// How to start a child (CPython's stdin=, stdout=, stderr=, cwd=, env=).
struct ProcessOptions {
    Redirect in = INHERIT;  ///< standard input
    Redirect out = INHERIT;  ///< standard output
    Redirect err = INHERIT;   ///< STDOUT: merged into stdout (only valid here)
    // The `{}` initializers keep g++'s -Wmissing-field-initializers quiet when a designated
    // initializer leaves these out (`ProcessOptions{.out = PIPE}`).
    std::string cwd{};  ///< empty: the parent's working directory
    std::optional<std::map<std::string, std::string>> env{};  ///< nullopt: the parent's environment
};

namespace detail {
struct ProcessState;
}

/// A started child. A copyable handle: copies refer to the same child.
class ASYNCIO_API Process {
public:
    /// An empty handle (every member but the streams throws RuntimeError).
    Process() = default;

    Stream in;   ///< the child's stdin when piped (write + drain, close for EOF); else empty
    Stream out;  ///< the child's stdout when piped; else empty
    Stream err;  ///< the child's stderr when piped; else empty

    /// The child's process id.
    [[nodiscard]] pid_t pid() const;
    /// The exit status once the loop has seen the child exit: the exit code, or -N when signal
    /// N killed it. nullopt while it runs.
    [[nodiscard]] std::optional<int> returncode() const;
    /// Waits for the child to exit and gives returncode(). Cancelling the waiting task leaves
    /// the child running.
    [[nodiscard]] Coro<int> wait() const;
    /// Writes `input` to stdin and closes it (when stdin is piped; `input` is ignored
    /// otherwise), reads stdout and stderr to their end at the same time, then waits for the
    /// exit. Gives {stdout, stderr} (empty for a stream that is not piped). A child that exits
    /// without reading its input is not an error (EPIPE while feeding is ignored, as CPython).
    [[nodiscard]] Coro<std::pair<std::string, std::string>> communicate(std::string input) const;
    /// communicate() with no input (stdin, when piped, is just closed).
    [[nodiscard]] Coro<std::pair<std::string, std::string>> communicate() const;
    /// Sends `sig` to the child; does nothing once it has exited (the pid may belong to
    /// someone else by then). An invalid signal: std::system_error (EINVAL).
    void send_signal(int sig) const;
    void terminate() const;  ///< send_signal(SIGTERM)
    void kill() const;       ///< send_signal(SIGKILL)

    /// False for a default-constructed (empty) handle.
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }

    /// Internal: made by create_subprocess_*.
    Process(std::shared_ptr<detail::ProcessState> state, Stream in_pipe, Stream out_pipe, Stream err_pipe) noexcept
        : in(std::move(in_pipe)), out(std::move(out_pipe)), err(std::move(err_pipe)), state_(std::move(state)) {}

private:
    const detail::ProcessState& state() const;
    std::shared_ptr<detail::ProcessState> state_;
};

/// Starts `program` with `args` (argv[0] is `program`). A name without '/' is searched in PATH
/// (options.env's PATH when it sets one). A program that cannot start: std::system_error
/// (ENOENT, EACCES, ENOTDIR, ...); STDOUT given for `in` or `out`: std::invalid_argument.
/// (Overloads rather than default arguments: a defaulted `{}` would be a braced temporary in
/// the caller's co_await expression, which g++ 12 destroys twice.)
ASYNCIO_API Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, ProcessOptions options);
/// create_subprocess_exec() with default options (every stream inherited).
ASYNCIO_API Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args);
/// create_subprocess_exec() without arguments and with default options.
ASYNCIO_API Coro<Process> create_subprocess_exec(std::string program);
/// Runs `cmd` with /bin/sh -c (so "exit 3" gives returncode 3, an unknown command 127).
ASYNCIO_API Coro<Process> create_subprocess_shell(std::string cmd, ProcessOptions options);
/// create_subprocess_shell() with default options.
ASYNCIO_API Coro<Process> create_subprocess_shell(std::string cmd);

}  // namespace asyncio
