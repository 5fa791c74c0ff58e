// A task's life cycle: spawn -> (Ready <-> Running <-> Sleeping/Waiting/AwaitingTask)* -> Done
// -> destroyed when the last reference (Task handles + the loop's own) is dropped.
//
// Also cancel(), which finds a waiting task through its state and wait_target (SEMANTICS.md
// 4.1), and the completion rules of SEMANTICS.md 3.4.
#include <coroutine>
#include <typeinfo>

#include "asyncio/loop.hpp"
#include "core/loop_access.hpp"

namespace asyncio::detail {

namespace {

bool is_cancelled_error(const std::exception_ptr& e) {
#if defined(__GLIBCXX__)
    // libstdc++ can name the type without a rethrow (a rethrow costs ~1 us of unwinding).
    const std::type_info* type = e.__cxa_exception_type();
    return type != nullptr && *type == typeid(CancelledError);
#else
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
#endif
}

}  // namespace

void spawn(TaskBase& t, std::coroutine_handle<> frame) {
    Loop& loop = tls_loop != nullptr ? *tls_loop : get_event_loop();
    loop.check_open();
    t.flags = TaskBase::kIsTask | TaskBase::kLoopRef;
    t.continuation = frame;
    t.resume_point = frame;
    t.refs = 1;
    t.number = ++loop.tasks_created_;  // "Task-N" is formatted only if someone asks
    t.all_prev = nullptr;
    t.all_next = loop.all_;
    if (loop.all_ != nullptr) loop.all_->all_prev = &t;
    loop.all_ = &t;
    ++loop.live_tasks_;
    loop.sched_.push_ready(&t);
}

void task_finished(TaskBase& t) noexcept {
    Loop& loop = *tls_loop;
    Scheduler& s = loop.sched_;
    t.state = TaskState::Done;
    if (t.exception && is_cancelled_error(t.exception)) t.flags |= TaskBase::kCancelled;
    if (!t.waiters.empty()) {
        // Every waiter gets the outcome, oldest first; that retrieves it.
        t.flags |= TaskBase::kAwaited;
        while (TaskWaiter* w = t.waiters.pop_front()) w->notify();
    } else if (&t == loop.main_) {
        t.flags |= TaskBase::kAwaited;  // run() hands the outcome to its caller
    } else if (t.exception && !t.has(TaskBase::kCancelled) && !t.has(TaskBase::kAwaited)) {
        // Nobody is waiting: look again one round later, after everything queued now, and
        // report the exception if nobody has retrieved it by then (SEMANTICS.md 9.3).
        t.flags |= TaskBase::kReportPending;
        s.push_ready(&t);
        t.state = TaskState::Done;
    }
}

void destroy_task(TaskBase& t) noexcept {
    if (t.number == TaskBase::kNamed && tls_loop != nullptr) tls_loop->names_.erase(&t);
    // The frame's own handle was stored in `continuation` when the Coro became a task.
    t.continuation.destroy();
}

bool cancel_task(TaskBase& t) {
    if (t.done()) return false;
    Loop& loop = *tls_loop;
    Scheduler& s = loop.sched_;
    if (&t == s.current) throw RuntimeError("can't cancel self");
    // Forward down the chain of awaited tasks: the innermost one receives the cancel. A task
    // whose awaited task has just finished (it is being notified) takes the cancel itself, or
    // the cancel would be lost on a finished task. Every task on the way counts the request
    // (CPython's cancelling(), for timeout scopes and task groups).
    TaskBase* target = &t;
    while (target->state == TaskState::AwaitingTask) {
        auto* awaited = static_cast<TaskBase*>(target->wait_target);
        if (awaited->done()) break;
        ++target->cancel_requests;
        target = awaited;
    }
    if (target == s.current) throw RuntimeError("can't cancel self");
    ++target->cancel_requests;
    switch (target->state) {
    case TaskState::Waiting:
        static_cast<WaitQueue*>(target->wait_target)->remove(target);
        s.push_ready(target);
        break;
    case TaskState::Sleeping:
        s.timers.remove(target);
        s.push_ready(target);
        break;
    default:  // already runnable (or an outer task of a nested run): keep its place
        break;
    }
    target->flags |= TaskBase::kCancelPending;
    return true;
}

void await_task(TaskBase& target, TaskWaiter& waiter, std::coroutine_handle<> h) {
    Scheduler& s = *tls_scheduler;
    TaskBase* cur = s.running_task();
    // A cycle of awaits would never finish and would send cancel() round it forever.
    for (TaskBase* x = &target;; x = static_cast<TaskBase*>(x->wait_target)) {
        if (x == cur) throw RuntimeError("can't wait on a task that is waiting on the current task");
        if (x->state != TaskState::AwaitingTask) break;
    }
    cur->resume_point = h;
    cur->state = TaskState::AwaitingTask;
    cur->wait_target = &target;
    static_cast<TaskAwaiterBase&>(waiter).self = cur;
    waiter.link(target, cur);
}

void raise_cancelled(TaskBase* t) {
    t->flags &= static_cast<std::uint8_t>(~TaskBase::kCancelPending);
    throw CancelledError{};
}

void raise_no_running_loop() { throw RuntimeError("no running event loop"); }

void raise_bad_coro(bool empty) {
    if (empty) throw RuntimeError("Coro is empty: it was moved from or handed to create_task");
    throw RuntimeError(
        "Coro awaited twice: a Coro runs once; to use its result in several places, make it a "
        "task (create_task) and await the Task");
}

void raise_empty_task() {
    throw RuntimeError("Task is empty: the handle refers to no task (default-constructed or moved from)");
}

}  // namespace asyncio::detail
