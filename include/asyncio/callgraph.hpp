/// @file
/// The call graph of tasks (CPython 3.14's asyncio.format_call_graph / print_call_graph and
/// `python -m asyncio pstree`): what each task is suspended in, and who waits for whom.
///
///      std::cerr << asyncio::format_call_graph(task);  // one task and who awaits it
///      asyncio::print_call_graph();                     // the current task, to stderr
///      std::cerr << asyncio::format_all_tasks();       // every task of the loop, as a tree
///      asyncio::enable_dump_on_signal(SIGQUIT);         // kill -QUIT <pid>: the same, to stderr
///
/// One task looks like this (innermost coroutine first, as CPython lays it out; each level of
/// "Awaited by" is indented three more spaces):
///
///      * Task(name='fetch-2', id=0x5612a8e0, state=waiting)
///      + Call stack:
///      |   File 'dump.cpp', line 22, in asyncio::Coro<void> wait_for_approval(asyncio::Event*)
///      |   File 'dump.cpp', line 26, in asyncio::Coro<int> fetch(int, asyncio::Event*)
///      + Awaited by:
///         * Task(name='service', id=0x5612a000, state=waiting)
///         + Call stack:
///         |   File '.../asyncio/task_group.hpp', line 127, in asyncio::Coro<...> asyncio::task_group(F)
///         |   File 'dump.cpp', line 37, in asyncio::Coro<void> service(asyncio::Event*)
///
/// The state is one of: not started, ready, running, sleeping, waiting (an Event, a Lock, I/O,
/// ...), awaiting a task, done, failed, cancelled.
///
/// Each frame shows its coroutine function and the file and line of the co_await it is
/// suspended at (for the running task: the last co_await each frame passed). Both are captured
/// while the program runs at the cost of a pointer store per co_await and per coroutine frame,
/// so leaving these functions unused costs nothing measurable. How much a compiler provides:
/// with std::source_location (g++ >= 11, clang >= 15) the function's full signature and
/// file:line; clang 14 (no source_location) gives the bare function name ("fetch") and
/// file:line through its __builtin_FUNCTION/FILE/LINE; a compiler with neither prints
/// `<unknown>`. A task that has not started shows its function without a line; a finished
/// task shows no call stack.
///
/// "Awaited by" lists the tasks waiting for this one: a plain `co_await task`, gather,
/// wait_for, wait, as_completed, shield, and the parent of a task_group child (for the whole
/// life of the child, as CPython's TaskGroup). format_all_tasks() turns the same relation
/// around: each task not awaited by another is a root, with the tasks it awaits under it
/// ("+ Awaits:").
#pragma once

#include <string>

#include "asyncio/export.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

/// The call graph of task `t` (default: the running task): its name, id and state, the chain
/// of coroutines it is suspended in (innermost first, each with its function and, where the
/// compiler provides them, file and line), and, recursively, the tasks awaiting it. Throws
/// RuntimeError for an empty handle, or without an argument outside a task.
ASYNCIO_API std::string format_call_graph(Task<> t = current_task());

/// Writes format_call_graph(t) to stderr.
ASYNCIO_API void print_call_graph(Task<> t = current_task());

/// The call graph of every unfinished task of the calling thread's loop, as a forest: each
/// task nobody awaits, oldest first, with the tasks it awaits nested under it ("+ Awaits:"),
/// as `python -m asyncio pstree` shows a process. Empty string if there is no task.
ASYNCIO_API std::string format_all_tasks();

/// Opt-in dump for a program that seems hung: from now on signal `sig` (e.g. SIGQUIT,
/// `kill -QUIT <pid>` or Ctrl-\ in a terminal) makes the calling thread's loop write
/// format_all_tasks() to stderr and carry on; the program is not stopped. Built on
/// Loop::add_signal_handler: the signal handler itself only wakes the loop (async-signal
/// safe), the loop's thread formats and writes. It therefore needs the loop to be turning
/// (tasks waiting on each other, on I/O or timers), not a callback stuck in a busy loop.
/// Undo with get_event_loop().remove_signal_handler(sig). Throws as add_signal_handler does.
ASYNCIO_API void enable_dump_on_signal(int sig);

}  // namespace asyncio
