// The call graph: read-only walks over what the hot paths already keep (see task_base.hpp).
//
// A task's chain: its root frame, then each frame's `inner` (the Coro it is awaiting inline),
// innermost last; printed reversed. Who awaits a task: the `waiting_task()` of each node in
// its waiter list. Nothing here runs unless asked for.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "asyncio/callgraph.hpp"
#include "asyncio/introspect.hpp"
#include "asyncio/loop.hpp"

namespace asyncio {

namespace detail {
namespace {

std::string task_state(const TaskBase& t) {
    switch (t.state) {
    case TaskState::Ready:
        return t.has(TaskBase::kStarted) ? "ready" : "not started";
    case TaskState::Sleeping:
        return "sleeping";
    case TaskState::Waiting:
        return "waiting";
    case TaskState::AwaitingTask:
        return "awaiting a task";
    case TaskState::Running:
        return "running";
    case TaskState::Done:
        if (t.has(TaskBase::kCancelled)) return "cancelled";
        return t.exception ? "failed" : "done";
    case TaskState::Coro:
        break;
    }
    return "not started";
}

std::string task_header(const TaskBase& t) {
    char id[32];
    std::snprintf(id, sizeof id, "%p", static_cast<const void*>(&t));
    return "* Task(name='" + task_name(t) + "', id=" + id + ", state=" + task_state(t) + ")";
}

// One frame: "File 'f.cpp', line 12, in fetch"; without a co_await reached yet, no line.
std::string frame_line(const TaskBase& f) {
#if ASYNCIO_HAS_SOURCE_LOCATION
    const char* function = f.origin.where.function_name();
    const char* file = f.await_site.line() != 0 ? f.await_site.file_name() : f.origin.where.file_name();
    unsigned line = f.await_site.line();
#else
    const char* function = f.origin.function;
    const char* file = f.origin.file;
    unsigned line = f.await_site;
#endif
    if (function == nullptr || *function == '\0') function = "<unknown>";
    if (file == nullptr || *file == '\0') file = "<unknown>";
    std::string s = "File '";
    s += file;
    s += '\'';
    if (line != 0) s += ", line " + std::to_string(line);
    s += ", in ";
    // g++ spells out a template's arguments after the signature (" [with F = ...]"), often
    // longer than the rest of the line: the signature alone names the frame well enough.
    std::string_view name(function);
    s += name.substr(0, name.find(" [with "));
    return s;
}

// The frames a task is in, innermost first; none once it has finished.
std::vector<const TaskBase*> call_stack(const TaskBase& t) {
    std::vector<const TaskBase*> frames;
    if (t.done()) return frames;
    for (const TaskBase* f = &t; f != nullptr; f = f->inner) frames.push_back(f);
    return {frames.rbegin(), frames.rend()};
}

void add_line(std::string& out, int level, const std::string& text) {
    out.append(static_cast<std::size_t>(level) * 3, ' ');
    out += text;
    out += '\n';
}

void add_task(std::string& out, int level, const TaskBase& t) {
    add_line(out, level, task_header(t));
    std::vector<const TaskBase*> frames = call_stack(t);
    if (!frames.empty()) {
        add_line(out, level, "+ Call stack:");
        for (const TaskBase* f : frames) add_line(out, level, "|   " + frame_line(*f));
    }
}

// The tasks waiting for `t`, in the order they began to (a task at most once).
std::vector<const TaskBase*> awaited_by(const TaskBase& t) {
    std::vector<const TaskBase*> tasks;
    for (const TaskWaiter* w = t.waiters.front(); w != nullptr; w = w->next_in_list()) {
        const TaskBase* by = w->waiting_task();
        if (by == nullptr) continue;
        bool seen = false;
        for (const TaskBase* x : tasks) seen = seen || x == by;
        if (!seen) tasks.push_back(by);
    }
    return tasks;
}

// `path` holds the tasks above this one, so that a cycle of waits (a task_group child awaiting
// its parent, say) is cut instead of followed forever.
void add_graph_up(std::string& out, int level, const TaskBase& t, std::vector<const TaskBase*>& path) {
    add_task(out, level, t);
    std::vector<const TaskBase*> by = awaited_by(t);
    if (by.empty()) return;
    add_line(out, level, "+ Awaited by:");
    path.push_back(&t);
    for (const TaskBase* b : by) {
        bool cycle = false;
        for (const TaskBase* x : path) cycle = cycle || x == b;
        if (cycle) {
            add_line(out, level + 1, task_header(*b) + " (cycle: shown above)");
        } else {
            add_graph_up(out, level + 1, *b, path);
        }
    }
    path.pop_back();
}

using Children = std::map<const TaskBase*, std::vector<const TaskBase*>>;

void add_graph_down(std::string& out, int level, const TaskBase& t, const Children& children,
                    std::set<const TaskBase*>& shown, std::vector<const TaskBase*>& path) {
    shown.insert(&t);
    add_task(out, level, t);
    auto it = children.find(&t);
    if (it == children.end()) return;
    add_line(out, level, "+ Awaits:");
    path.push_back(&t);
    for (const TaskBase* c : it->second) {
        bool cycle = false;
        for (const TaskBase* x : path) cycle = cycle || x == c;
        if (cycle) {
            add_line(out, level + 1, task_header(*c) + " (cycle: shown above)");
        } else {
            add_graph_down(out, level + 1, *c, children, shown, path);
        }
    }
    path.pop_back();
}

void write_all(int fd, const std::string& s) noexcept {
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // stderr closed or full: a diagnostic is not worth failing for
        off += static_cast<std::size_t>(n);
    }
}

}  // namespace
}  // namespace detail

std::string format_call_graph(Task<> t) {
    if (!t) detail::raise_empty_task();
    std::string out;
    std::vector<const detail::TaskBase*> path;
    detail::add_graph_up(out, 0, *t.base(), path);
    return out;
}

void print_call_graph(Task<> t) { detail::write_all(2, format_call_graph(std::move(t))); }

std::string format_all_tasks() {
    std::vector<Task<>> tasks = all_tasks();  // oldest first; keeps them alive meanwhile
    std::set<const detail::TaskBase*> unfinished;
    for (const Task<>& t : tasks) unfinished.insert(t.base());
    detail::Children children;
    std::set<const detail::TaskBase*> has_parent;
    for (const Task<>& t : tasks) {
        for (const detail::TaskBase* by : detail::awaited_by(*t.base())) {
            if (unfinished.count(by) == 0) continue;
            children[by].push_back(t.base());
            has_parent.insert(t.base());
        }
    }
    std::string out;
    std::set<const detail::TaskBase*> shown;
    std::vector<const detail::TaskBase*> path;
    for (const Task<>& t : tasks) {
        if (has_parent.count(t.base()) == 0) detail::add_graph_down(out, 0, *t.base(), children, shown, path);
    }
    for (const Task<>& t : tasks) {  // only in a cycle of waits: no root reaches them
        if (shown.count(t.base()) == 0) detail::add_graph_down(out, 0, *t.base(), children, shown, path);
    }
    return out;
}

void enable_dump_on_signal(int sig) {
    get_event_loop().add_signal_handler(sig, [] {
        std::string text = "asyncio: every task of the loop, innermost frame first\n" + format_all_tasks();
        detail::write_all(2, text);
    });
}

}  // namespace asyncio
