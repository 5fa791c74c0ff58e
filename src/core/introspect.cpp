// Introspection: task names, all_tasks, the outcome checks of Task::result()/exception().
//
// Names cost nothing until asked for: spawn() stores the task's number; "Task-N" is formatted
// by get_name(). A name given by set_name lives in the loop's name table, keyed by the task,
// and the number becomes TaskBase::kNamed; destroy_task() erases the entry.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/introspect.hpp"
#include "asyncio/loop.hpp"
#include "core/loop_access.hpp"

namespace asyncio {

namespace detail {

struct LoopInspector {
    static std::string name(const TaskBase& t) {
        if (t.number != TaskBase::kNamed) return "Task-" + std::to_string(t.number);
        if (tls_loop == nullptr) return "Task";
        auto it = tls_loop->names_.find(&t);
        return it != tls_loop->names_.end() ? it->second : std::string("Task");
    }
    static void set_name(TaskBase& t, std::string name) {
        get_event_loop().names_.insert_or_assign(&t, std::move(name));
        t.number = TaskBase::kNamed;
    }
    static std::vector<Task<>> unfinished_tasks() {
        std::vector<Task<>> tasks;
        if (tls_loop == nullptr) return tasks;
        for (TaskBase* t = tls_loop->all_; t != nullptr; t = t->all_next) {
            if (t->done()) continue;
            ++t->refs;
            tasks.push_back(Task<>::adopt(t));
        }
        std::reverse(tasks.begin(), tasks.end());  // the list links the newest first
        return tasks;
    }
};

std::string task_name(const TaskBase& t) { return LoopInspector::name(t); }

void set_task_name(TaskBase& t, std::string name) { LoopInspector::set_name(t, std::move(name)); }

void check_outcome_ready(TaskBase& t, const char* what) {
    if (!t.done()) throw InvalidStateError(what);
    t.flags |= TaskBase::kAwaited;
}

}  // namespace detail

std::vector<Task<>> all_tasks() { return detail::LoopInspector::unfinished_tasks(); }

}  // namespace asyncio
