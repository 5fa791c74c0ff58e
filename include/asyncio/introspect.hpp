// Seeing inside a running program: every task of the loop (all_tasks), as CPython's
// asyncio.all_tasks(); what each task is doing (the call graph) is callgraph.hpp.
//
//   for (asyncio::Task<> t : asyncio::all_tasks()) std::cerr << t.get_name() << '\n';
//
// Task names, cancelled(), result() and exception() are members of Task (task.hpp).
#pragma once

#include <string>
#include <vector>

#include "asyncio/task.hpp"

namespace asyncio {

/// The unfinished tasks of the calling thread's loop, oldest first, the task run() or
/// run_until_complete() is running included (CPython's all_tasks(), which gives a set).
/// Outside a running loop: the tasks queued for its next run (CPython raises there).
ASYNCIO_API std::vector<Task<>> all_tasks();

}  // namespace asyncio
